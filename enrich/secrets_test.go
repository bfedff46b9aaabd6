package enrich_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/porchgw/porch/enrich"
)

// TestAPIKeyNeverLogged drives every logging path (success, 401, 404,
// 429, 5xx, processing) at debug level and checks that neither the key nor
// the Basic credential appears in the logs or the stored records.
func TestAPIKeyNeverLogged(t *testing.T) {
	for _, auth := range []string{enrich.AuthAPIKey, enrich.AuthBasic, enrich.AuthBearer} {
		t.Run(auth, func(t *testing.T) {
			provider, typ := "gather", "candidate_interview.completed"
			if auth == enrich.AuthBearer {
				provider, typ = "koji", "interview.analysis_ready"
			}
			h := newHarness(t, provider, func(c *enrich.Config) {
				c.Sources[0].Auth = auth
				if auth == enrich.AuthBasic {
					c.Sources[0].OrganizationID = "org-42"
				}
			})
			if auth == enrich.AuthBasic {
				h.api.org = "org-42"
			}
			key := h.api.key
			ok, missing, limited, failing := h.event(typ, "iv-1"), h.event(typ, "missing-1"), h.event(typ, "iv-2"), h.event(typ, "iv-3")
			h.api.processing["iv-1"] = 1
			h.prepare(ok)
			h.prepare(missing)
			h.api.prefill(100)
			h.prepare(limited)
			h.api.failN = 3
			h.prepare(failing)
			h.api.key = "rotated" // every request is now a 401
			h.clk.Advance(h.record(ok).NextAt.Sub(h.clk.Now()))
			h.prepare(ok)
			h.prepare(h.event(typ, "iv-4"))

			secrets := []string{key, base64.StdEncoding.EncodeToString([]byte("org-42:" + key))}
			logs := h.logs.String()
			if !strings.Contains(logs, `"status":401`) || !strings.Contains(logs, `"status":429`) {
				t.Fatalf("the error paths were not logged:\n%s", logs)
			}
			for _, ev := range []string{ok.ID, missing.ID, limited.ID, failing.ID} {
				rec, err := h.db.Enrichment(ev)
				if err != nil {
					t.Fatal(err)
				}
				logs += rec.LastError + string(rec.Interview)
			}
			for _, s := range secrets {
				if strings.Contains(logs, s) {
					t.Fatalf("secret found in logs or records:\n%s", logs)
				}
			}
		})
	}
}

func TestConfigErrorsDoNotQuoteTheKey(t *testing.T) {
	cfg := enrich.Config{Sources: []enrich.SourceConfig{{Name: "g", Provider: "gather", BaseURL: "ftp://x", APIKey: gatherKey, Auth: "basic"}}}
	_, err := enrich.New(cfg, nil)
	if err == nil || strings.Contains(err.Error(), gatherKey) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"base_url", "organization_id"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}
