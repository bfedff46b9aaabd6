package admin_test

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestBrowserAuditorSearchesByPrefixAndExports drives the search page in
// a real browser, signed in with Basic auth: search by the start of an
// interview id typed in the wrong case, an event type and the days
// received, open an event by clicking its
// row (not its id), come back and click Export, and read the downloaded
// NDJSON: exactly the events the search showed. Screenshots of the
// search and event pages go to the test's temporary directory (and to
// PORCH_SCREENSHOT_DIR when set).
func TestBrowserAuditorSearchesByPrefixAndExports(t *testing.T) {
	env := startAdmin(t)
	env.deadLetter(t, env.ids[7]) // so the event page has a delivery history
	ctx := browser(t)
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("browser: %s: %v", what, err)
		}
	}
	login := base64.StdEncoding.EncodeToString([]byte("auditor:" + auditorToken))
	_, err := chromedp.Call(ctx, network.Enable, network.EnableParams{})
	step("enable network", err)
	_, err = chromedp.Call(ctx, network.SetExtraHTTPHeaders,
		network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": "Basic " + login}})
	step("log in", err)

	downloads := t.TempDir()
	done := make(chan *cdpbrowser.EventDownloadProgress, 1)
	step("listen", chromedp.ListenBrowser(ctx, func(ev any) {
		if p, ok := ev.(*cdpbrowser.EventDownloadProgress); ok && p.State != cdpbrowser.DownloadProgressStateInProgress {
			select {
			case done <- p:
			default:
			}
		}
	}))
	on := true
	_, err = chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads, EventsEnabled: &on})
	step("allow downloads", err)

	// int-1's analysis_ready events are 1 and 7; "INT-1" is not how the
	// provider wrote the id.
	want := []string{env.ids[7], env.ids[1]}
	step("search", chromedp.Do(ctx,
		chromedp.Navigate(env.base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="interview_prefix"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="interview_prefix"]`), "INT-1"),
		chromedp.SendKeys(chromedp.CSS(`input[name="event"]`), "interview.analysis_ready"),
		chromedp.SetValue(chromedp.CSS(`input[name="from"]`), day(env.ids[0], 0)),
		chromedp.SetValue(chromedp.CSS(`input[name="to"]`), day(env.ids[len(env.ids)-1], 0)),
		chromedp.Click(chromedp.CSS(`form.search button[type="submit"]:not([formaction])`)),
		chromedp.WaitVisible(chromedp.CSS(`form.search input[name="interview_prefix"][value="INT-1"]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.results a.event-link`)),
	))
	shown, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`table.results tbody`)))
	step("read results", err)
	for _, id := range want {
		if !strings.Contains(shown, id) {
			t.Errorf("results lack %s: %q", id, shown)
		}
	}
	if n := strings.Count(shown, "int-1"); n != len(want) {
		t.Errorf("results show %d events, want %d: %q", n, len(want), shown)
	}
	searchShot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	step("screenshot", err)
	results, err := chromedp.Run(ctx, chromedp.Location())
	step("location", err)

	// The Source cell of the first row, far from the id link.
	step("click row", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`table.results tbody tr:first-child td:nth-child(2)`)),
		chromedp.WaitVisible(chromedp.ID("payload")),
	))
	title, err := chromedp.Run(ctx, chromedp.Title())
	step("title", err)
	if !strings.Contains(title, want[0]) {
		t.Errorf("clicking the first row opened %q, want event %s", title, want[0])
	}
	eventShot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	step("screenshot", err)

	step("back and export", chromedp.Do(ctx,
		chromedp.Navigate(results),
		chromedp.WaitVisible(chromedp.CSS(`form.search input[name="interview_prefix"][value="INT-1"]`)),
		chromedp.Click(chromedp.CSS(`form.search button[formaction="/ui/export"]`)),
	))
	var dl *cdpbrowser.EventDownloadProgress
	select {
	case dl = <-done:
	case <-ctx.Done():
		t.Fatalf("no download: %v", ctx.Err())
	}
	if dl.State != cdpbrowser.DownloadProgressStateCompleted {
		t.Fatalf("download %s", dl.State)
	}
	b, err := os.ReadFile(filepath.Join(downloads, dl.GUID))
	if err != nil {
		t.Fatal(err)
	}
	got := exported(t, string(b))
	if fmt.Sprint(got) != fmt.Sprint([]string{want[1], want[0]}) { // an export is oldest first
		t.Errorf("downloaded export = %v, want %v oldest first", got, want)
	}

	dirs := []string{t.TempDir()}
	if d := os.Getenv("PORCH_SCREENSHOT_DIR"); d != "" {
		dirs = append(dirs, d)
	}
	for _, dir := range dirs {
		for name, b := range map[string][]byte{"porch-search-prefix.png": searchShot, "porch-event-from-row.png": eventShot} {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Error(err)
			}
			t.Logf("screenshot: %s", p)
		}
	}
}
