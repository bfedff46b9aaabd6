package main

import (
	"fmt"
	"io"

	"github.com/sirupsen/logrus"
)

// logTimeFormat stamps each line to the millisecond with its zone offset.
const logTimeFormat = "2006-01-02T15:04:05.000Z07:00"

// newLogger builds the one logger the program uses; packages get it as a
// FieldLogger. level is debug|info|warn|error, format json|text. JSON
// lines carry "time", "level" and "msg" beside the entry's fields. Each
// line is one write to w, made under the logger's lock.
func newLogger(w io.Writer, level, format string) (*logrus.Logger, error) {
	l := logrus.New()
	l.SetOutput(w)
	lv, err := logrus.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("log.level: %w", err)
	}
	l.SetLevel(lv)
	switch format {
	case "json", "":
		l.SetFormatter(&jsonFormatter{timeFormat: logTimeFormat}) // logformat.go
	case "text":
		l.SetFormatter(&logrus.TextFormatter{FullTimestamp: true})
	default:
		return nil, fmt.Errorf("log.format: %q is not json or text", format)
	}
	return l, nil
}
