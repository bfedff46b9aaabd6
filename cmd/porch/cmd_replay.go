package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/porchgw/porch/inbox"
)

func init() {
	register("replay", "forward an archived event again, keeping its id (admin token)", runReplay)
	register("deadletters", "list dead letters, replay them, or abandon a removed destination's pending deliveries (ls, replay, abandon)", runDeadLetters, "ls", "replay", "abandon")
}

// runReplay is `porch replay EVENT_ID --reason R [--destination D]`.
func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("replay", "EVENT_ID --reason TEXT [flags]", stdout, stderr)
	co := clientFlags(fs, adminTokenEnv...)
	reason := fs.String("reason", "", "why it is replayed, recorded in the event's delivery history (required)")
	dest := fs.String("destination", "", "replay to this destination only (default: every destination the event was accepted for)")
	id, code, ok := parseWithID(fs, args)
	if !ok {
		return code
	}
	if strings.TrimSpace(*reason) == "" {
		fmt.Fprintln(stderr, "porch replay: --reason is required: say why this event is replayed")
		return 2
	}
	c, ok := newAdminClient("replay", co, stderr, adminTokenEnv...)
	if !ok {
		return 2
	}
	var got struct {
		EventID       string   `json:"event_id"`
		Queued        []string `json:"queued"`
		NotConfigured []string `json:"not_configured"`
	}
	body := map[string]string{"reason": *reason, "destination": *dest}
	if err := c.call(ctx, http.MethodPost, "/api/v1/events/"+url.PathEscape(id)+"/replay", body, &got); err != nil {
		return fail(stderr, "replay", err)
	}
	if len(got.NotConfigured) > 0 {
		fmt.Fprintf(stderr, "porch replay: not queued for %s: not configured on this node\n", termText(strings.Join(got.NotConfigured, ", ")))
	}
	if len(got.Queued) == 0 {
		fmt.Fprintf(stdout, "%s: nothing queued: its deliveries are still pending, or it has no destination\n", termText(got.EventID))
		return 0
	}
	fmt.Fprintf(stdout, "%s: queued for %s (same webhook-id)\n", termText(got.EventID), termText(strings.Join(got.Queued, ", ")))
	return 0
}

const deadLettersUsage = `Usage: porch deadletters <ls|replay|abandon> [flags]

  ls                       list dead letters, oldest event first (filters as flags)
  replay --reason TEXT     replay every dead letter the filters select (none: all of them)
  abandon --destination NAME --reason TEXT
                           dead-letter every delivery still pending for NAME, a
                           destination removed from the config, so that it stops
                           holding retention (replayable if NAME comes back)

Filters of ls and replay: --destination, --source, --event (a glob, e.g.
'interview.*'), --since and --until (when it was dead-lettered), --limit.
All talk to the admin listener: --admin-url (default http://127.0.0.1:8081)
and a token from --token or the environment (ls: PORCH_AUDITOR_TOKEN, else
PORCH_ADMIN_TOKEN; replay and abandon: PORCH_ADMIN_TOKEN).
`

// runDeadLetters is `porch deadletters`. Exit codes: 0 ok, 1 failed, 2 bad
// usage.
func runDeadLetters(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, deadLettersUsage)
		return 2
	}
	if isHelp(args[0]) {
		if len(args) > 1 && !isHelp(args[1]) { // porch deadletters help SUBCOMMAND
			args = []string{args[1], "--help"}
		} else {
			fmt.Fprint(stdout, deadLettersUsage)
			return 0
		}
	}
	switch args[0] {
	case "ls":
		return deadLettersLs(ctx, args[1:], stdout, stderr)
	case "replay":
		return deadLettersReplay(ctx, args[1:], stdout, stderr)
	case "abandon":
		return deadLettersAbandon(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "porch deadletters: unknown subcommand %q\n\n%s", args[0], deadLettersUsage)
	return 2
}

// deadFilterFlags are the filters both subcommands take.
type deadFilterFlags struct {
	destination, source, event, since, until *string
	limit                                    *int
}

func addDeadFilterFlags(fs *flag.FlagSet) deadFilterFlags {
	return deadFilterFlags{
		destination: fs.String("destination", "", "destination name"),
		source:      fs.String("source", "", "source name, e.g. koji"),
		event:       fs.String("event", "", "event type or glob, e.g. 'interview.*'"),
		since:       fs.String("since", "", "dead-lettered at or after (RFC 3339 or 2006-01-02)"),
		until:       fs.String("until", "", "dead-lettered before"),
		limit:       fs.Int("limit", 0, "at most this many (default: ls 100, replay all)"),
	}
}

// check checks the filters before anything is sent, so that a typo exits 2
// naming its flag; 0 when they are usable.
func (f deadFilterFlags) check(cmd string, stderr io.Writer) int {
	if code := checkRange(cmd, *f.since, *f.until, stderr); code != 0 {
		return code
	}
	if *f.limit < 0 || *f.limit > inbox.MaxListLimit {
		return badFlag(stderr, cmd, "limit", "%d is not a number from 1 to %d", *f.limit, inbox.MaxListLimit)
	}
	return 0
}

func (f deadFilterFlags) values() url.Values {
	v := url.Values{}
	for k, p := range map[string]*string{"destination": f.destination, "source": f.source, "event": f.event, "since": f.since, "until": f.until} {
		if *p != "" {
			v.Set(k, *p)
		}
	}
	if *f.limit != 0 {
		v.Set("limit", strconv.Itoa(*f.limit))
	}
	return v
}

func deadLettersLs(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("deadletters ls", "[flags]", stdout, stderr)
	co := clientFlags(fs)
	filter := addDeadFilterFlags(fs)
	asJSON := fs.Bool("json", false, "print the API's JSON answer")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if code := filter.check("deadletters ls", stderr); code != 0 {
		return code
	}
	c, ok := newAdminClient("deadletters ls", co, stderr)
	if !ok {
		return 2
	}
	var got struct {
		DeadLetters []inbox.DeadLetter `json:"deadletters"`
		Count       int                `json:"count"`
	}
	if err := c.getJSON(ctx, "/api/v1/deadletters?"+filter.values().Encode(), &got); err != nil {
		return fail(stderr, "deadletters ls", err)
	}
	if *asJSON {
		printJSON(stdout, got)
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EVENT\tDESTINATION\tSOURCE\tEVENT TYPE\tINTERVIEW\tDEAD SINCE (UTC)\tATTEMPTS\tREASON")
	for _, d := range got.DeadLetters {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", termText(d.EventID), termText(d.Destination),
			termText(d.Source), termText(d.Type), termText(d.InterviewID), d.At.UTC().Format(time.DateTime), d.Attempts,
			termText(d.Reason))
	}
	_ = tw.Flush()
	fmt.Fprintf(stderr, "%d dead letter(s)\n", got.Count)
	return 0
}

func deadLettersReplay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("deadletters replay", "--reason TEXT [filters]", stdout, stderr)
	co := clientFlags(fs, adminTokenEnv...)
	filter := addDeadFilterFlags(fs)
	reason := fs.String("reason", "", "why they are replayed, recorded in each event's delivery history (required)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if strings.TrimSpace(*reason) == "" {
		fmt.Fprintln(stderr, "porch deadletters replay: --reason is required: say why these are replayed")
		return 2
	}
	if code := filter.check("deadletters replay", stderr); code != 0 {
		return code
	}
	c, ok := newAdminClient("deadletters replay", co, stderr, adminTokenEnv...)
	if !ok {
		return 2
	}
	body := struct {
		Reason      string `json:"reason"`
		Destination string `json:"destination,omitempty"`
		Source      string `json:"source,omitempty"`
		Event       string `json:"event,omitempty"`
		Since       string `json:"since,omitempty"`
		Until       string `json:"until,omitempty"`
		Limit       int    `json:"limit,omitempty"`
	}{*reason, *filter.destination, *filter.source, *filter.event, *filter.since, *filter.until, *filter.limit}
	var got inbox.BulkReplay
	if err := c.call(ctx, http.MethodPost, "/api/v1/deadletters/replay", body, &got); err != nil {
		return fail(stderr, "deadletters replay", err)
	}
	fmt.Fprintf(stdout, "%d delivery(ies) queued again (same webhook-ids)\n", got.Queued)
	if got.NotConfigured > 0 {
		fmt.Fprintf(stderr, "porch deadletters replay: %d dead letter(s) left as they are: their destination is not configured on this node\n", got.NotConfigured)
	}
	return 0
}
