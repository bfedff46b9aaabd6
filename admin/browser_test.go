package admin_test

import (
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// browser starts a real headless Chromium, or skips the test when there
// is none (only outside CI: in CI a missing browser is a failure).
func browser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath
	if _, err := os.Stat(path); err != nil {
		if p, lerr := exec.LookPath("chromium"); lerr == nil {
			path = p
		} else if os.Getenv("CI") == "" {
			t.Skip("chromium is not installed (apt-get install -y chromium); skipping the browser test outside CI")
		} else {
			t.Fatalf("CI is set but chromium is not installed at %s: %v", chromiumPath, err)
		}
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	return ctx
}

// TestBrowserAuditorFindsEventAndRawPayload drives the archive pages in a
// real browser: log in with an auditor token (Basic auth), search by
// interview id, open the event, read the raw payload.
func TestBrowserAuditorFindsEventAndRawPayload(t *testing.T) {
	env := startAdmin(t)
	env.deadLetter(t, env.ids[7]) // so the event page has a delivery history
	ctx := browser(t)
	want, err := env.db.Body(env.ids[7])
	if err != nil {
		t.Fatal(err)
	}
	login := base64.StdEncoding.EncodeToString([]byte("auditor:" + auditorToken))
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("browser: %s: %v", what, err)
		}
	}
	_, err = chromedp.Call(ctx, network.Enable, network.EnableParams{})
	step("enable network", err)
	_, err = chromedp.Call(ctx, network.SetExtraHTTPHeaders,
		network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": "Basic " + login}})
	step("log in", err)
	step("search", chromedp.Do(ctx,
		chromedp.Navigate(env.base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="interview_prefix"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="interview_prefix"]`), "int-1"),
		chromedp.Submit(chromedp.CSS(`input[name="interview_prefix"]`)),
	))
	// The unfiltered home page lists events too: wait for the results
	// page itself before reading it.
	waitFor(t, "the search to navigate to its results", func() bool {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		step("location", err)
		return strings.Contains(loc, "interview_prefix=int-1")
	})
	step("results", chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`a.event-link`))))
	firstLink, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`a.event-link`)))
	step("read results", err)
	searchShot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	step("screenshot", err)
	step("open event", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a.event-link`)),
		chromedp.WaitVisible(chromedp.ID("payload")),
	))
	title, err := chromedp.Run(ctx, chromedp.Title())
	step("title", err)
	payload, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("payload")))
	step("read payload", err)
	timeline, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`table.timeline`)))
	step("read delivery history", err)
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	step("screenshot", err)
	step("open raw", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a[href$="/raw"]`)),
		chromedp.WaitVisible(chromedp.ID("raw")),
	))
	raw, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("raw")))
	step("read raw", err)
	if strings.TrimSpace(firstLink) != env.ids[7] {
		t.Errorf("first result = %q, want the newest event of int-1 %s", firstLink, env.ids[7])
	}
	if !strings.Contains(title, env.ids[7]) || !strings.Contains(payload, `"interview_id": "int-1"`) {
		t.Errorf("event page: title %q payload %q", title, payload)
	}
	if !strings.Contains(timeline, "410") || !strings.Contains(timeline, "dead") {
		t.Errorf("delivery history = %q", timeline)
	}
	if strings.TrimSpace(raw) != string(want) {
		t.Errorf("raw view = %q, want %q", raw, want)
	}
	if dir := os.Getenv("PORCH_SCREENSHOT_DIR"); dir != "" {
		for name, b := range map[string][]byte{"porch-search-page.png": searchShot, "porch-event-page.png": shot} {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Error(err)
			}
		}
	}
}
