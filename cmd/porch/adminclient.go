package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
)

// adminClient talks to a running gateway's admin API, for the commands
// that act through it (archive, replay, deadletters).
type adminClient struct {
	base  string
	token string
	http  *http.Client
	// tokenFrom says where the token came from ("--token" or an
	// environment variable) and env which variables the command reads,
	// for the hint when the gateway refuses it.
	tokenFrom string
	env       []string
}

// Where a command finds its token when --token is not given, in order.
var (
	auditorTokenEnv = []string{"PORCH_AUDITOR_TOKEN", "PORCH_ADMIN_TOKEN"}
	adminTokenEnv   = []string{"PORCH_ADMIN_TOKEN"}
)

// defaultAdminURL is where the commands look for a gateway's admin
// listener unless told otherwise: the example config's admin_listen.
const defaultAdminURL = "http://127.0.0.1:8081"

// clientOpts are the flags that say which gateway a command talks to, and
// as whom.
type clientOpts struct {
	fs                  *flag.FlagSet
	base, token, config *string
}

// clientFlags adds --admin-url, --token and --config to fs; env names the
// variables read, in order, when --token is not given.
func clientFlags(fs *flag.FlagSet, env ...string) *clientOpts {
	if len(env) == 0 {
		env = auditorTokenEnv
	}
	o := &clientOpts{fs: fs}
	o.base = fs.String("admin-url", defaultAdminURL, "admin listener URL (with --config, its admin_listen)")
	help := "auditor or admin token"
	if len(env) == 1 {
		help = "admin token"
	}
	o.token = fs.String("token", "", fmt.Sprintf("%s (default $%s, else one of the --config's)", help, strings.Join(env, ", else $")))
	o.config = fs.String("config", "", "the gateway's config file, for its admin_listen and tokens")
	return o
}

// set reports whether the flag name was given.
func (o *clientOpts) set(name string) bool {
	given := false
	o.fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// where is how to name this gateway again on a command line: its
// --config or --admin-url, or nothing for the default.
func (o *clientOpts) where() string {
	switch {
	case *o.config != "":
		return " --config " + termText(*o.config)
	case *o.base != defaultAdminURL:
		return " --admin-url " + termText(*o.base)
	}
	return ""
}

// newAdminClient checks the flags; it reports problems on stderr. name is
// the command ("archive ls"), env as for clientFlags. The token is
// --token's, else the first of env that is set, else the config's (an
// admin token when env asks for one, else an auditor token first).
func newAdminClient(name string, o *clientOpts, stderr io.Writer, env ...string) (*adminClient, bool) {
	if len(env) == 0 {
		env = auditorTokenEnv
	}
	base, token := *o.base, *o.token
	from := "--token"
	for _, e := range env {
		if token == "" {
			token, from = os.Getenv(e), "$"+e
		}
	}
	if *o.config != "" {
		cfg, err := loadConfigNoStore(*o.config)
		if err != nil {
			fmt.Fprintf(stderr, "porch %s: --config: %v\n", name, err)
			return nil, false
		}
		if !o.set("admin-url") {
			base = cfg.adminURL()
		}
		tokens := cfg.Auth.AdminTokens
		if len(env) > 1 {
			tokens = append(slices.Clone(cfg.Auth.AuditorTokens), tokens...)
		}
		if token == "" && len(tokens) > 0 {
			token, from = tokens[0], "--config"
		}
	}
	if token == "" {
		fmt.Fprintf(stderr, "porch %s: no token: pass --token or set %s\n", name, strings.Join(env, " (or ")+strings.Repeat(")", len(env)-1))
		return nil, false
	}
	if err := checkURLFlag(base); err != nil {
		badFlag(stderr, name, "admin-url", "%v", err)
		return nil, false
	}
	return &adminClient{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{}, tokenFrom: from, env: env}, true
}

// do sends method path with body (JSON when not nil) and returns the
// response when it is 200; other statuses become an error carrying the
// server's message.
func (c *adminClient) do(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, unreachable(ctx, c.base, "--admin-url", err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	var e struct {
		Error string `json:"error"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&e)
	if e.Error == "" {
		e.Error = http.StatusText(resp.StatusCode)
	}
	hint := ""
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		hint = fmt.Sprintf(" (the gateway does not know the token from %s: pass --token or set %s to one of its %s)",
			c.tokenFrom, strings.Join(c.env, " or "), tokenKeys(c.env))
	case http.StatusForbidden:
		hint = fmt.Sprintf(" (the token from %s is an auditor token; this needs an admin token: pass --token or set %s to one of the gateway's auth.admin_tokens)",
			c.tokenFrom, strings.Join(adminTokenEnv, " or "))
	case http.StatusTooManyRequests:
		hint = fmt.Sprintf(" (this token's request rate, auth.rate_limit, is used up; retry after %ss)", resp.Header.Get("Retry-After"))
	}
	return nil, fmt.Errorf("%s: %d %s%s", strings.SplitN(path, "?", 2)[0], resp.StatusCode, e.Error, hint)
}

// tokenKeys names the config keys that list the tokens env is for.
func tokenKeys(env []string) string {
	if slices.Equal(env, adminTokenEnv) {
		return "auth.admin_tokens"
	}
	return "auth.auditor_tokens or auth.admin_tokens"
}

// unreachable explains a failed request to the admin listener at base:
// nothing answered there, so say which gateway was expected and which
// flag (urlFlag) points elsewhere.
func unreachable(ctx context.Context, base, urlFlag string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("cannot reach the admin listener (%v): is `porch serve` running at %s? (%s)", err, base, urlFlag)
}

// get performs GET path; see do.
func (c *adminClient) get(ctx context.Context, path string) (*http.Response, error) {
	return c.do(ctx, http.MethodGet, path, nil)
}

// getJSON decodes a 200 answer of GET path into v.
func (c *adminClient) getJSON(ctx context.Context, path string, v any) error {
	return c.call(ctx, http.MethodGet, path, nil, v)
}

// call sends body (JSON, or nothing when nil) and decodes a 200 answer
// into v.
func (c *adminClient) call(ctx context.Context, method, path string, body, v any) error {
	resp, err := c.do(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("%s: bad answer: %w", path, err)
	}
	return nil
}

// printJSON writes v to w as indented JSON (the --json output of the
// listing commands).
func printJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// fail reports err for command name and returns exit code 1.
func fail(stderr io.Writer, name string, err error) int {
	fmt.Fprintf(stderr, "porch %s: %v\n", name, err)
	return 1
}
