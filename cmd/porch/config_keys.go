package main

import (
	"reflect"
	"regexp"
	"strings"
)

// reIndex matches the [n] parts of a key path.
var reIndex = regexp.MustCompile(`\[\d+\]`)

// allowedKeys lists the keys allowed in the mapping that holds the key at
// path (for "limits.ack_timout" the keys of limits), for unknown-key errors.
func allowedKeys(path string) []string {
	t := reflect.TypeOf(Config{})
	parts := strings.Split(reIndex.ReplaceAllString(path, ""), ".")
	for _, name := range parts[:len(parts)-1] {
		f, ok := fieldByTag(t, name)
		if !ok {
			return nil
		}
		t = f.Type
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var keys []string
	for i := range t.NumField() {
		if tag := yamlName(t.Field(i)); tag != "" {
			keys = append(keys, tag)
		}
	}
	return keys
}

// fieldByTag finds the struct field whose yaml name is name.
func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	if t.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	for i := range t.NumField() {
		if yamlName(t.Field(i)) == name {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

// yamlName is the key of an exported field, "" for unexported or skipped ones.
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	return name
}
