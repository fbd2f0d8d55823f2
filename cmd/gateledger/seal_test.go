package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/auth"
	"github.com/gateledger/gateledger/eventstore"
	"github.com/gateledger/gateledger/internal/eventdb"
	"github.com/gateledger/gateledger/internal/journeygen"
	"github.com/gateledger/gateledger/seal"
)

// TestSealCatchesHiddenHistory: a sealed store verifies; an inspector's exported root
// and proof check with no store, and an altered proof does not; then a soft delete, a
// tombstone, $maxCount=1 and $maxAge on four sealed journeys are each reported by
// verify as a break naming the journey, and verify exits 1.
//
// The embedded server refuses all four through the protocol (checked here too), so
// they are written to its storage directly (eventdb), as an operator with the admin
// password could do to a KurrentDB the ledger does not control.
func TestSealCatchesHiddenHistory(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	store, err := eventstore.Open(ctx, eventstore.Config{DataDir: dir, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	g := journeygen.New(11, time.Now(), 365*24*time.Hour, aggregates.DefaultPolicy(nil))
	var js []journeygen.Journey
	for i := 0; i < 8; i++ {
		if j := g.Journey(i); j.EventCount() >= 3 {
			js = append(js, j)
		}
	}
	if len(js) < 5 {
		t.Fatalf("only %d generated journeys with three events", len(js))
	}
	if err := (&journeygen.Writer{Client: store.Client}).Write(ctx, js); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(ctx); err != nil {
		t.Fatal(err)
	}
	gl := func(want int, args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(ctx, append(args, "--log-level", "warn"), &out, &errOut); code != want {
			t.Fatalf("gateledger %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out.String(), errOut.String())
		}
		return out.String()
	}
	check := func(want int, args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(ctx, append([]string{"seal", "check"}, args...), &out, &errOut); code != want {
			t.Fatalf("seal check: exit %d, want %d\n%s%s", code, want, out.String(), errOut.String())
		}
		return out.String()
	}

	if out := gl(0, "seal", "write", "--data", dir); !strings.Contains(out, "sealed: seal 0") {
		t.Fatalf("seal write: %s", out)
	}
	if out := gl(0, "verify", "--data", dir); !strings.Contains(out, "OK:") || !strings.Contains(out, "sealed journeys") {
		t.Fatalf("verify of a sealed store: %s", out)
	}
	root, proof := filepath.Join(dir, "root.json"), filepath.Join(dir, "proof.json")
	gl(0, "seal", "export", "--data", dir, "--noms", js[0].NOMS, "--root", root, "--proof", proof)
	out := check(0, "--root", root, "--proof", proof)
	if !strings.Contains(out, "OK: journey-"+js[0].NOMS) || !strings.Contains(out, "Compare that key") {
		t.Fatalf("seal check: %s", out)
	}
	fp := out[strings.Index(out, "SHA256:"):]
	fp = fp[:strings.IndexAny(fp, " \n")]
	check(0, "--root", root, "--proof", proof, "--key-fingerprint", fp)
	check(1, "--root", root, "--proof", proof, "--key-fingerprint", "SHA256:someoneelse")
	b, err := os.ReadFile(proof)
	if err != nil {
		t.Fatal(err)
	}
	altered := filepath.Join(dir, "altered.json")
	if err := os.WriteFile(altered, bytes.Replace(b, []byte(`"revision": `), []byte(`"revision": 1`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := check(1, "--root", root, "--proof", altered); !strings.Contains(out, "NOT PROVEN") {
		t.Fatalf("seal check of an altered proof: %s", out)
	}

	store, err = eventstore.Open(ctx, eventstore.Config{DataDir: dir, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	deleted, tombstoned, maxCount, maxAge := aggregates.StreamName(js[1].NOMS), aggregates.StreamName(js[2].NOMS),
		aggregates.StreamName(js[3].NOMS), aggregates.StreamName(js[4].NOMS)
	if _, err := store.Client.DeleteStream(ctx, deleted, esdb.DeleteStreamOptions{}); err == nil || !strings.Contains(err.Error(), "keeps its whole history") {
		t.Fatalf("the embedded store deleted a journey through the protocol: %v", err)
	}
	db := store.Node.DB
	if _, err := db.Delete(ctx, deleted, eventdb.Any); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Tombstone(ctx, tombstoned, eventdb.Any); err != nil {
		t.Fatal(err)
	}
	for stream, doc := range map[string]string{maxCount: `{"$maxCount":1}`, maxAge: `{"$maxAge":60}`} {
		if _, err := db.Append(ctx, eventdb.MetadataStream(stream), eventdb.Any, []eventdb.ProposedEvent{
			{ID: uuid.New(), Type: "$metadata", IsJSON: true, Data: []byte(doc)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Close(ctx); err != nil {
		t.Fatal(err)
	}
	out = gl(1, "verify", "--data", dir)
	for stream, why := range map[string]string{deleted: "deleted", tombstoned: "tombstoned", maxCount: "$maxCount=1", maxAge: "$maxAge=60"} {
		line := ""
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "SEAL BREAK "+stream+":") {
				line = l
			}
		}
		if !strings.Contains(line, why) {
			t.Errorf("verify does not report %s as %s:\n%s", stream, why, out)
		}
	}
	if strings.Contains(out, "SEAL BREAK "+aggregates.StreamName(js[0].NOMS)) || strings.Contains(out, "OK:") {
		t.Errorf("verify reports a journey that is whole, or says OK:\n%s", out)
	}
	// The inspector's files still check: they prove what was sealed, whatever the
	// store holds now.
	check(0, "--root", root, "--proof", proof)
}

// TestSealRoutesThroughServe: through the API as serve wires it, an admin seals on
// demand, an inspector fetches the root and one person's proof, and they check as
// the files of gateledger seal check; other roles are refused.
func TestSealRoutesThroughServe(t *testing.T) {
	l := startLedger(t, "")
	prison := l.token(auth.RolePrison, "LEI")
	admin := l.token(auth.RoleAdmin, "")
	inspector := l.token(auth.RoleInspector, "")
	l.post(prison, "/v1/journeys/A1234BC/receptions", `{"kind":"SENTENCE","prison":"LEI","at":"2020-03-02T09:00:00Z"}`)
	l.post(prison, "/v1/journeys/B1234CD/receptions", `{"kind":"SENTENCE","prison":"LEI","at":"2020-03-02T09:00:00Z"}`)

	call := func(method, path, token string, want int) []byte {
		t.Helper()
		req, err := http.NewRequest(method, "http://"+l.inst.Addr().String()+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, want)
		}
		return b
	}
	call("GET", "/v1/seals/latest", inspector, http.StatusNotFound)
	call("POST", "/v1/seals", prison, http.StatusForbidden)
	call("POST", "/v1/seals", inspector, http.StatusForbidden)
	if b := call("POST", "/v1/seals", admin, http.StatusCreated); !bytes.Contains(b, []byte(`"written":true`)) {
		t.Fatalf("POST /v1/seals: %s", b)
	}
	call("GET", "/v1/seals/latest", prison, http.StatusForbidden)
	call("GET", "/v1/journeys/A1234BC/seal-proof", prison, http.StatusForbidden)
	call("GET", "/v1/journeys/Z9999ZZ/seal-proof", inspector, http.StatusNotFound)
	root, err := seal.DecodeSigned(call("GET", "/v1/seals/latest", inspector, http.StatusOK))
	if err != nil {
		t.Fatal(err)
	}
	proof, err := seal.DecodeProof(call("GET", "/v1/journeys/B1234CD/seal-proof", inspector, http.StatusOK))
	if err != nil {
		t.Fatal(err)
	}
	if err := seal.Check(root, proof); err != nil || root.Size != 2 || proof.Stream != "journey-B1234CD" {
		t.Fatalf("root %+v, proof %+v: %v", root.Head, proof, err)
	}
}
