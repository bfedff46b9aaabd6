package main

import (
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

var (
	// errUnterminated reports a "${" with no closing "}".
	errUnterminated = errors.New("unterminated ${ (missing })")
	// errNesting reports references nested deeper than maxNesting.
	errNesting = fmt.Errorf("${VAR:-default} nested more than %d deep", maxNesting)
	// errReference reports a ${...} that is neither ${VAR} nor ${VAR:-default}.
	errReference = errors.New("only ${VAR} and ${VAR:-default} are supported (VAR: letters, digits and _)")
)

// maxNesting bounds ${A:-${B:-...}}, so a hostile file cannot make
// expansion quadratic or deeply recursive.
const maxNesting = 8

// expandEnv expands ${VAR} and ${VAR:-default} in s using lookup, and turns
// $$ into a literal $. As in the shell, the default may itself hold
// references (${NEW:-${OLD}}), braces are matched to find where a reference
// ends, and ":-" also uses the default when VAR is set but empty. A lone $
// not followed by { or $ is kept as is. It returns the names of the
// variables it referenced, those in defaults included.
func expandEnv(s string, lookup func(string) (string, bool)) (string, []string, error) {
	return expand(s, lookup, 0)
}

func expand(s string, lookup func(string) (string, bool), depth int) (string, []string, error) {
	if !strings.Contains(s, "$") {
		return s, nil, nil
	}
	var b strings.Builder
	var refs []string
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '{':
			if depth >= maxNesting {
				return "", refs, errNesting
			}
			end, err := closingBrace(s[i+2:])
			if err != nil {
				return "", refs, err
			}
			val, r, err := expandRef(s[i+2:i+2+end], lookup, depth)
			refs = append(refs, r...)
			if err != nil {
				return "", refs, err
			}
			b.WriteString(val)
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String(), refs, nil
}

// closingBrace returns the index of the "}" that ends the reference whose
// "${" comes just before s, stepping over nested ${...} and $$.
func closingBrace(s string) (int, error) {
	open := 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '$' && i+1 < len(s) && s[i+1] == '$':
			i++
		case s[i] == '$' && i+1 < len(s) && s[i+1] == '{':
			open++
			i++
		case s[i] == '}' && open == 0:
			return i, nil
		case s[i] == '}':
			open--
		}
	}
	return -1, errUnterminated
}

// expandRef resolves the inside of one ${...}. The default is expanded
// even when unused, so a mistake in it is reported at once rather than on
// the day the variable is unset.
func expandRef(ref string, lookup func(string) (string, bool), depth int) (string, []string, error) {
	name, def, hasDef := strings.Cut(ref, ":-")
	if err := checkVarName(name); err != nil {
		return "", nil, err
	}
	refs := []string{name}
	v, ok := lookup(name)
	if !hasDef {
		return v, refs, nil
	}
	dv, drefs, err := expand(def, lookup, depth+1)
	refs = append(refs, drefs...)
	if err != nil {
		return "", refs, err
	}
	if ok && v != "" {
		return v, refs, nil
	}
	return dv, refs, nil
}

// checkVarName accepts shell variable names. The error quotes at most the
// valid start of the name: what follows it could be a secret written in
// another shell syntax (${VAR-secret}).
func checkVarName(name string) error {
	n := 0
	for n < len(name) && (name[n] == '_' || isLetter(name[n]) || (n > 0 && isDigit(name[n]))) {
		n++
	}
	switch {
	case name == "":
		return errors.New("empty variable name in ${}")
	case n < len(name):
		return fmt.Errorf("${%s...}: %w", name[:n], errReference)
	}
	return nil
}

func isLetter(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

// expandNode expands variables in every scalar value under n (never in
// mapping keys), so an expanded value cannot add YAML structure: it lands
// verbatim in its key. origins records path → referenced variables.
func expandNode(n *yaml.Node, path string, lookup func(string) (string, bool), origins map[string]string) []error {
	switch n.Kind {
	case yaml.DocumentNode:
		var errs []error
		for _, c := range n.Content {
			errs = append(errs, expandNode(c, path, lookup, origins)...)
		}
		return errs
	case yaml.MappingNode:
		var errs []error
		for i := 0; i+1 < len(n.Content); i += 2 {
			errs = append(errs, expandNode(n.Content[i+1], joinKey(path, n.Content[i].Value), lookup, origins)...)
		}
		return errs
	case yaml.SequenceNode:
		var errs []error
		for i, c := range n.Content {
			errs = append(errs, expandNode(c, indexKey(path, i), lookup, origins)...)
		}
		return errs
	case yaml.ScalarNode:
		return expandScalar(n, path, lookup, origins)
	}
	return nil
}

// expandScalar expands one scalar in place.
func expandScalar(n *yaml.Node, path string, lookup func(string) (string, bool), origins map[string]string) []error {
	v, refs, err := expandEnv(n.Value, lookup)
	if err != nil {
		return []error{&ConfigError{Key: path, Msg: "line " + itoa(n.Line) + ": " + err.Error()}}
	}
	if v == n.Value {
		return nil
	}
	if len(refs) > 0 {
		origins[path] = "${" + strings.Join(refs, "}, ${") + "}"
	}
	n.Value = v
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return nil // quoted: stays a string
	}
	// Plain: let the decoder resolve ints and bools (max_attempts: ${N:-12}),
	// but never turn a value into null.
	n.Tag = ""
	switch v {
	case "", "~", "null", "Null", "NULL":
		n.Tag = "!!str"
	}
	return nil
}
