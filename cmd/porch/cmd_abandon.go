package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// deadLettersAbandon is `porch deadletters abandon --destination NAME
// --reason TEXT`: it dead-letters the deliveries still pending for a
// destination removed from the config, so they stop holding retention.
func deadLettersAbandon(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	const cmd = "deadletters abandon"
	fs := newFlags(cmd, "--destination NAME --reason TEXT [flags]", stdout, stderr)
	co := clientFlags(fs, adminTokenEnv...)
	dest := fs.String("destination", "", "the removed destination whose pending deliveries are given up on (required)")
	reason := fs.String("reason", "", "why, recorded with each dead letter and in its event's delivery history (required)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	switch {
	case strings.TrimSpace(*dest) == "":
		fmt.Fprintf(stderr, "porch %s: --destination is required: name the destination removed from the config\n", cmd)
		return 2
	case strings.TrimSpace(*reason) == "":
		fmt.Fprintf(stderr, "porch %s: --reason is required: say why its deliveries are given up on\n", cmd)
		return 2
	}
	c, ok := newAdminClient(cmd, co, stderr, adminTokenEnv...)
	if !ok {
		return 2
	}
	var got struct {
		Destination  string `json:"destination"`
		DeadLettered int    `json:"dead_lettered"`
		Leased       int    `json:"leased"`
	}
	body := map[string]string{"destination": *dest, "reason": *reason}
	if err := c.call(ctx, http.MethodPost, "/api/v1/deadletters/abandon", body, &got); err != nil {
		return fail(stderr, cmd, err)
	}
	fmt.Fprintln(stdout, abandonSummary(termText(got.Destination), got.DeadLettered, got.Leased))
	return 0
}

// abandonSummary says in one line what an abandon did.
func abandonSummary(dest string, n, leased int) string {
	s := fmt.Sprintf("dead-lettered %d %s to removed destination %s", n, plural(n, "delivery", "deliveries"), dest)
	if n == 0 && leased == 0 {
		s += " (none was pending: is the name the one the config had?)"
	}
	if leased > 0 {
		s += fmt.Sprintf(" (%d still leased by a node; run again once their lease passes)", leased)
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
