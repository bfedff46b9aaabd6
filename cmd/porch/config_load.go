package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxConfigBytes bounds how much of a config file is read.
const maxConfigBytes = 4 << 20

// LoadConfig reads, expands, decodes and validates the config file at path,
// taking ${VAR} values from the process environment.
func LoadConfig(path string) (*Config, error) { return loadConfig(path, (*Config).Validate) }

// loadConfigNoStore is LoadConfig for the commands that never open the
// store (send-test, sink): the store block is not checked, so a terminal
// without the database URL's variable can still use them.
func loadConfigNoStore(path string) (*Config, error) {
	return loadConfig(path, (*Config).validateNoStore)
}

func loadConfig(path string, validate func(*Config) error) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open config: %w", err)
	}
	defer f.Close()
	cfg, err := parseConfig(f, os.LookupEnv, validate)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig builds a Config from r in a fixed order: defaults, expand
// ${VAR} with lookup, decode (unknown keys are errors), validate. Every
// error names the YAML key path; errors.As finds each *ConfigError.
func ParseConfig(r io.Reader, lookup func(string) (string, bool)) (*Config, error) {
	return parseConfig(r, lookup, (*Config).Validate)
}

func parseConfig(r io.Reader, lookup func(string) (string, bool), validate func(*Config) error) (*Config, error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if len(raw) > maxConfigBytes {
		return nil, &ConfigError{Msg: fmt.Sprintf("file larger than %d bytes", maxConfigBytes)}
	}
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	cfg := DefaultConfig()
	root, err := parseSingleDocument(raw)
	if err != nil {
		return nil, err
	}
	cfg.origins = make(map[string]string)
	if errs := expandNode(root, "", lookup, cfg.origins); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := decodeNode(root, cfg); err != nil {
		return nil, err
	}
	cfg.fillDerived()
	if err := validate(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// parseSingleDocument parses raw into a node tree, rejecting a second document.
func parseSingleDocument(raw []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var root, extra yaml.Node
	if err := dec.Decode(&root); err != nil && !errors.Is(err, io.EOF) {
		return nil, &ConfigError{Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, &ConfigError{Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	case !isEmptyDocument(&extra):
		return nil, &ConfigError{Msg: "only one YAML document is allowed (found a second ---)"}
	}
	return &root, nil
}

// isEmptyDocument reports whether a document holds nothing (a trailing ---).
func isEmptyDocument(n *yaml.Node) bool {
	if len(n.Content) == 0 {
		return true
	}
	c := n.Content[0]
	return c.Kind == yaml.ScalarNode && c.ShortTag() == "!!null"
}

// decodeNode decodes the expanded tree into cfg with unknown keys rejected.
// yaml.v3 only offers KnownFields on a Decoder, so the tree is re-encoded
// (quoting is the encoder's job, so values stay verbatim) and decoded again;
// error lines are mapped back to key paths through the re-encoded tree.
func decodeNode(root *yaml.Node, cfg *Config) error {
	if root.Kind == 0 {
		return nil // empty file: defaults only
	}
	enc, err := yaml.Marshal(root)
	if err != nil {
		return fmt.Errorf("re-encode config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(enc))
	dec.KnownFields(true)
	err = dec.Decode(cfg)
	if err == nil || errors.Is(err, io.EOF) {
		return nil
	}
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return &ConfigError{Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var tree yaml.Node
	_ = yaml.Unmarshal(enc, &tree)
	lines := keyLines(root)
	errs := make([]error, 0, len(te.Errors))
	for _, msg := range te.Errors {
		ce := decodeError(&tree, msg)
		if l, ok := lines[ce.Key]; ok {
			ce.Msg = fmt.Sprintf("%s (line %d)", ce.Msg, l)
		}
		errs = append(errs, ce)
	}
	return errors.Join(errs...)
}

var (
	reLine     = regexp.MustCompile(`^line (\d+): (.*)$`)
	reUnknown  = regexp.MustCompile(`^field (.*) not found in type .*$`)
	reDuration = regexp.MustCompile("^cannot unmarshal !!\\w+ `(.*)` into time.Duration$")
	reType     = regexp.MustCompile("^cannot unmarshal (!!\\w+)(?: `(.*)`)? into (.*)$")
)

// decodeError rewrites one yaml.v3 type error into a *ConfigError naming the key.
func decodeError(tree *yaml.Node, msg string) *ConfigError {
	m := reLine.FindStringSubmatch(msg)
	if m == nil {
		return &ConfigError{Msg: msg}
	}
	line, _ := strconv.Atoi(m[1])
	msg = m[2]
	if u := reUnknown.FindStringSubmatch(msg); u != nil {
		key := locate(tree, line, u[1], true)
		msg := "unknown key"
		if allowed := allowedKeys(key); len(allowed) > 0 {
			msg += " (allowed here: " + strings.Join(allowed, ", ") + ")"
		}
		return &ConfigError{Key: key, Msg: msg}
	}
	if d := reDuration.FindStringSubmatch(msg); d != nil {
		return &ConfigError{Key: locate(tree, line, d[1], false),
			Msg: fmt.Sprintf("%q is not a duration (use Go syntax like 90s, 5m, 168h)", d[1])}
	}
	if t := reType.FindStringSubmatch(msg); t != nil {
		key := locate(tree, line, t[2], false)
		if t[2] == "" { // a list or mapping: no text to find it by, but its tag
			if k := locateTagged(tree, line, t[1]); k != "" {
				key = k
			}
		}
		return &ConfigError{Key: key,
			Msg: fmt.Sprintf("a %s value cannot be used here (want %s)", strings.TrimPrefix(t[1], "!!"), goTypeName(t[3]))}
	}
	return &ConfigError{Key: locate(tree, line, "", false), Msg: msg}
}

// goTypeName turns a Go type from a yaml error into words for operators.
func goTypeName(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "main."), strings.HasPrefix(t, "*main."), strings.HasPrefix(t, "map["):
		return "a mapping"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "an integer"
	case strings.HasPrefix(t, "float"):
		return "a number"
	}
	return "a " + t
}
