package main

import (
	"errors"
	"strings"

	"go.yaml.in/yaml/v3"
)

// errUnterminated reports a "${" with no closing "}".
var errUnterminated = errors.New("unterminated ${ (missing })")

// expandEnv expands ${VAR} and ${VAR:-default} in s using lookup, and turns
// $$ into a literal $. Like the shell, ":-" also uses the default when VAR is
// set but empty. A lone $ not followed by { or $ is kept as is. It returns
// the names of the variables it referenced.
func expandEnv(s string, lookup func(string) (string, bool)) (string, []string, error) {
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
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", refs, errUnterminated
			}
			name, val := expandRef(s[i+2:i+2+end], lookup)
			if name == "" {
				return "", refs, errors.New("empty variable name in ${}")
			}
			refs = append(refs, name)
			b.WriteString(val)
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String(), refs, nil
}

// expandRef resolves the inside of one ${...}.
func expandRef(ref string, lookup func(string) (string, bool)) (name, val string) {
	name, def, hasDef := strings.Cut(ref, ":-")
	v, ok := lookup(name)
	if hasDef && (!ok || v == "") {
		return name, def
	}
	return name, v
}

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
