package main

import (
	"strconv"

	"go.yaml.in/yaml/v3"
)

// joinKey appends a mapping key to a YAML key path.
func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// indexKey appends a sequence index to a YAML key path.
func indexKey(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func itoa(i int) string { return strconv.Itoa(i) }

// locate returns the key path of the node on line whose text is token (a
// mapping key when wantKey), or else the first key path found on that line.
func locate(n *yaml.Node, line int, token string, wantKey bool) string {
	var first, exact string
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		if exact != "" {
			return
		}
		if n.Line == line && first == "" && path != "" {
			first = path
		}
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := joinKey(path, k.Value)
				if wantKey && k.Line == line && k.Value == token {
					exact = p
					return
				}
				if k.Line == line && first == "" {
					first = p
				}
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, indexKey(path, i))
			}
		case yaml.ScalarNode:
			if !wantKey && n.Line == line && n.Value == token && token != "" {
				exact = path
			}
		}
	}
	walk(n, "")
	if exact != "" {
		return exact
	}
	if first == "" {
		return "line " + itoa(line)
	}
	return first
}

// locateTagged returns the key path of the node on line tagged tag
// ("!!seq", "!!map") nested deepest, the first of those equally deep, ""
// when there is none: in flow style (log: {level: [1]}) several keys share
// a line, and the value the decoder refused is most often the innermost.
func locateTagged(n *yaml.Node, line int, tag string) string {
	var found string
	best := -1
	var walk func(n *yaml.Node, path string, depth int)
	walk = func(n *yaml.Node, path string, depth int) {
		if n.Line == line && n.Tag == tag && path != "" && depth > best {
			found, best = path, depth
		}
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path, depth)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i+1], joinKey(path, n.Content[i].Value), depth+1)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, indexKey(path, i), depth+1)
			}
		}
	}
	walk(n, "", 0)
	return found
}

// keyLines maps every key path in the tree to the line it is written on.
func keyLines(root *yaml.Node) map[string]int {
	lines := make(map[string]int)
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := joinKey(path, n.Content[i].Value)
				lines[p] = n.Content[i].Line
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := indexKey(path, i)
				lines[p] = c.Line
				walk(c, p)
			}
		}
	}
	walk(root, "")
	return lines
}
