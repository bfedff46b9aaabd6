package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/porchgw/porch/inbox"
)

func init() {
	register("archive", "browse, export and verify the raw-payload archive of a running gateway (ls, show, raw, export, verify)", runArchive,
		"ls", "show", "raw", "export", "verify")
}

const archiveUsage = `Usage: porch archive <ls|show|raw|export|verify> [flags]

  ls                 list archived events, newest first (filters as flags)
  show ID            an event's metadata, evidence, duplicates and deliveries (JSON)
  raw ID             the exact bytes received, to stdout or --out
  export             NDJSON export (raw bodies in base64, chain fields), to stdout or --out
  verify             check the archive's hash chain on the gateway
  verify --file F    check an export file offline, without a gateway ("-" reads stdin)

Every subcommand but verify --file talks to the admin listener: --admin-url
(default http://127.0.0.1:8081) and a token from --token, or else the
environment variable PORCH_AUDITOR_TOKEN, or else PORCH_ADMIN_TOKEN.
Run 'porch archive <subcommand> --help' for its flags.
`

// runArchive is `porch archive`. Exit codes: 0 ok, 1 failed (or the chain
// is broken), 2 bad usage.
func runArchive(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, archiveUsage)
		return 2
	}
	if isHelp(args[0]) {
		if len(args) > 1 && !isHelp(args[1]) { // porch archive help SUBCOMMAND
			args = []string{args[1], "--help"}
		} else {
			fmt.Fprint(stdout, archiveUsage)
			return 0
		}
	}
	sub := map[string]func(context.Context, []string, io.Writer, io.Writer) int{
		"ls": archiveLs, "show": archiveShow, "raw": archiveRaw, "export": archiveExport, "verify": archiveVerify,
	}[args[0]]
	if sub == nil {
		fmt.Fprintf(stderr, "porch archive: unknown subcommand %q\n\n%s", args[0], archiveUsage)
		return 2
	}
	return sub(ctx, args[1:], stdout, stderr)
}

// parseWithID parses flags that may come before or after one positional
// argument (an event id).
func parseWithID(fs *flag.FlagSet, args []string) (id string, code int, ok bool) {
	if err := parse(fs, args); err != nil {
		return "", helpCode(err), false
	}
	if fs.NArg() == 0 {
		fmt.Fprintf(fs.Output(), "porch %s: an event id is required\n", fs.Name())
		return "", 2, false
	}
	id = fs.Arg(0)
	if code, ok := parseFlags(fs, fs.Args()[1:]); !ok {
		return "", code, false
	}
	return id, 0, true
}

func archiveLs(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("archive ls", "[flags]", stdout, stderr)
	co := clientFlags(fs)
	q := map[string]*string{} // query parameter → flag value
	for _, f := range []struct{ param, flag, help string }{
		{"source", "source", "source name, e.g. koji"}, {"event", "event", "event type, e.g. interview.completed"},
		{"interview_id", "interview-id", "interview id"}, {"status", "status", "accepted, quarantined or duplicate"},
		{"since", "since", "received at or after (RFC 3339 or 2006-01-02)"}, {"until", "until", "received before"},
		{"limit", "limit", "events per page (1-1000, default 50)"}, {"cursor", "cursor", "next_cursor of a previous page"},
		{"duplicate_of", "duplicate-of", "an event id: its duplicates kept for their bytes"},
	} {
		q[f.param] = fs.String(f.flag, "", f.help)
	}
	aliasFlag(fs, "interview", "interview-id")
	aliasFlag(fs, "interview_id", "interview-id") // its name before flags were kebab-case
	asJSON := fs.Bool("json", false, "print the API's JSON answer")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if code := checkListFlags("archive ls", *q["since"], *q["until"], *q["limit"], *q["status"], *q["cursor"], stderr); code != 0 {
		return code
	}
	if d := *q["duplicate_of"]; d != "" && inbox.IDTime(d).IsZero() {
		return badFlag(stderr, "archive ls", "duplicate-of", "%q is not an event id", d)
	}
	c, ok := newAdminClient("archive ls", co, stderr)
	if !ok {
		return 2
	}
	v := url.Values{}
	for k, p := range q {
		if *p != "" {
			v.Set(k, *p)
		}
	}
	var page inbox.Page
	if err := c.getJSON(ctx, "/api/v1/events?"+v.Encode(), &page); err != nil {
		return fail(stderr, "archive ls", err)
	}
	if *asJSON {
		printJSON(stdout, page)
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRECEIVED (UTC)\tSOURCE\tEVENT\tINTERVIEW\tSTATUS")
	for _, e := range page.Events {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", termText(e.ID), e.ReceivedAt.UTC().Format(time.DateTime),
			termText(e.Source), termText(e.Type), termText(e.InterviewID), termText(string(e.Status)))
	}
	_ = tw.Flush()
	if page.NextCursor != "" {
		fmt.Fprintf(stderr, "more: porch archive ls%s --cursor %s (same filters)\n", co.where(), termText(page.NextCursor))
	}
	return 0
}

func archiveShow(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("archive show", "ID [flags]", stdout, stderr)
	co := clientFlags(fs)
	id, code, ok := parseWithID(fs, args)
	if !ok {
		return code
	}
	c, ok := newAdminClient("archive show", co, stderr)
	if !ok {
		return 2
	}
	var detail json.RawMessage
	if err := c.getJSON(ctx, "/api/v1/events/"+url.PathEscape(id), &detail); err != nil {
		return fail(stderr, "archive show", err)
	}
	var out bytes.Buffer
	_ = json.Indent(&out, detail, "", "  ")
	fmt.Fprintf(stdout, "%s\n", termJSON(out.Bytes()))
	return 0
}

// checkListFlags checks archive ls's filters before anything is sent, so
// a typo exits 2 naming its flag; 0 when they are usable.
func checkListFlags(cmd, since, until, limit, status, cursor string, stderr io.Writer) int {
	if code := checkRange(cmd, since, until, stderr); code != 0 {
		return code
	}
	if limit != "" {
		if n, err := strconv.Atoi(limit); err != nil || n < 1 || n > inbox.MaxListLimit {
			return badFlag(stderr, cmd, "limit", "%q is not a number from 1 to %d", limit, inbox.MaxListLimit)
		}
	}
	if status != "" && !slices.Contains(inbox.Statuses, inbox.Status(status)) {
		return badFlag(stderr, cmd, "status", "%q is not %s, %s or %s", status, inbox.StatusAccepted, inbox.StatusQuarantined, inbox.StatusDuplicate)
	}
	if cursor != "" && inbox.IDTime(cursor).IsZero() {
		return badFlag(stderr, cmd, "cursor", "%q is not an event id (use the next_cursor a listing printed)", cursor)
	}
	return 0
}

// checkRange checks --since and --until; 0 when both are usable.
func checkRange(cmd, since, until string, stderr io.Writer) int {
	if err := checkTime(since); err != nil {
		return badFlag(stderr, cmd, "since", "%v", err)
	}
	if err := checkTime(until); err != nil {
		return badFlag(stderr, cmd, "until", "%v", err)
	}
	return 0
}
