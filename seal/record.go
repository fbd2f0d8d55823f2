package seal

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gateledger/gateledger/aggregates"
	"github.com/gateledger/gateledger/eventstore"
)

// Stream is the stream the seals are appended to, one event per seal; a seal's
// Sequence is its revision there. It is an ordinary stream, so that KurrentDB's
// default access rules for system ($) streams do not apply to it.
const Stream = eventstore.SealStream

// EventType is the type of every event in Stream.
const EventType = "HistorySealed"

// Version is the format of the seals this package writes; Check refuses others.
const Version = 1

// headDomain starts the signed bytes of a tree head (Head.signedBytes), so that a
// signature over a seal can never be taken for a signature over anything else.
const headDomain = "gateledger-seal-v1"

// Entry is one sealed stream: its last revision and the hash of the event there.
type Entry struct {
	Stream   string `json:"stream"`
	Revision uint64 `json:"revision"`
	Hash     string `json:"hash"`
}

// leaf is the entry's Merkle leaf data: "<stream> <revision> <hash>". Journey stream
// names hold no spaces and hashes are hex, so the line is unambiguous.
func (e Entry) leaf() []byte {
	return []byte(e.Stream + " " + strconv.FormatUint(e.Revision, 10) + " " + e.Hash)
}

// LeafHash is the entry's leaf in the seal's Merkle tree.
func (e Entry) LeafHash() Hash { return LeafHash(e.leaf()) }

func (e Entry) validate() error {
	if _, ok := aggregates.NOMSFromStream(e.Stream); !ok {
		return fmt.Errorf("stream %q is not a journey stream", e.Stream)
	}
	if !isHex32(e.Hash) {
		return fmt.Errorf("%s: hash %q is not 64 hex digits", e.Stream, e.Hash)
	}
	return nil
}

// Head is the signed part of a seal: a Merkle tree head in the manner of a
// Certificate Transparency signed tree head, chained to the previous seal.
type Head struct {
	Version int `json:"version"`
	// Sequence numbers the seals from 0; it is the seal's revision in Stream.
	Sequence uint64 `json:"sequence"`
	// SealedAt is when the sealer read the store (UTC).
	SealedAt time.Time `json:"sealedAt"`
	// Position is the $all commit position up to which the store was read: every
	// journey event at or before it is covered by this seal.
	Position uint64 `json:"position"`
	// Previous is the hash (Hash) of the previous seal, empty for the first.
	Previous string `json:"previous"`
	// Size is how many streams the tree covers: every stream sealed so far.
	Size uint64 `json:"size"`
	// Root is the Merkle tree hash over Size leaves, one per stream, sorted by name.
	Root string `json:"root"`
	// Changed is how many streams this seal lists, and Changes the SHA-256 of their
	// listing (changesDigest); the list itself travels in Record.
	Changed uint64 `json:"changed"`
	Changes string `json:"changes"`
	// PublicKey is the ed25519 key that signed the head, standard base64.
	PublicKey string `json:"publicKey"`
}

// signedBytes are the bytes the signature covers and Hash digests: one "name value"
// line per field, in a fixed order, so that any implementation can rebuild them
// without a canonical form of JSON.
func (h Head) signedBytes() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nversion %d\nsequence %d\nsealed-at %s\nposition %d\nprevious %s\nsize %d\nroot %s\nchanged %d\nchanges %s\nkey %s\n",
		headDomain, h.Version, h.Sequence, h.SealedAt.UTC().Format(time.RFC3339Nano), h.Position, h.Previous,
		h.Size, h.Root, h.Changed, h.Changes, h.PublicKey)
	return b.Bytes()
}

// Hash is the seal's hash: SHA-256 of its signed bytes, hex. The next seal's
// Previous holds it.
func (h Head) Hash() string {
	s := sha256.Sum256(h.signedBytes())
	return hex.EncodeToString(s[:])
}

// Key is the head's public key, decoded.
func (h Head) Key() (ed25519.PublicKey, error) {
	k, err := base64.StdEncoding.DecodeString(h.PublicKey)
	if err != nil || len(k) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key %q is not a base64 ed25519 key", h.PublicKey)
	}
	return ed25519.PublicKey(k), nil
}

func (h Head) validate() error {
	switch {
	case h.Version != Version:
		return fmt.Errorf("version %d: this ledger reads seals of version %d", h.Version, Version)
	case h.SealedAt.IsZero():
		return errors.New("no sealedAt time")
	case h.Previous != "" && !isHex32(h.Previous):
		return fmt.Errorf("previous %q is not 64 hex digits", h.Previous)
	case h.Sequence == 0 && h.Previous != "":
		return errors.New("the first seal names a previous seal")
	case h.Sequence > 0 && h.Previous == "":
		return fmt.Errorf("seal %d names no previous seal", h.Sequence)
	case !isHex32(h.Root):
		return fmt.Errorf("root %q is not 64 hex digits", h.Root)
	case !isHex32(h.Changes):
		return fmt.Errorf("changes %q is not 64 hex digits", h.Changes)
	case h.Changed > h.Size && h.Sequence == 0:
		return fmt.Errorf("the first seal lists %d streams in a tree of %d", h.Changed, h.Size)
	}
	_, err := h.Key()
	return err
}

// Signed is a tree head with its signature: what an inspector exports as root.json.
type Signed struct {
	Head
	// Signature is ed25519 over the head's signed bytes, standard base64.
	Signature string `json:"signature"`
}

// VerifySignature checks the signature with the head's own key. Whether that key is
// the ledger's is for the caller to decide (compare KeyFingerprint with a trusted one).
func (s Signed) VerifySignature() error {
	key, err := s.Key()
	if err != nil {
		return err
	}
	sig, err := base64.StdEncoding.DecodeString(s.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return errors.New("the signature is not a base64 ed25519 signature")
	}
	if !ed25519.Verify(key, s.signedBytes(), sig) {
		return errors.New("the signature does not match the seal: the file was altered or not signed by this key")
	}
	return nil
}

// sign fills in the key and signature.
func sign(h Head, key ed25519.PrivateKey) Signed {
	h.PublicKey = base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
	return Signed{Head: h, Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(key, h.signedBytes()))}
}

// Record is one seal as stored in Stream: the signed head and the streams that
// changed since the previous seal, sorted by name.
type Record struct {
	Signed
	Streams []Entry `json:"streams"`
}

// changesDigest is the SHA-256 of the listing of entries, one "<stream> <revision>
// <hash>\n" line each, in order.
func changesDigest(entries []Entry) string {
	h := sha256.New()
	for _, e := range entries {
		h.Write(e.leaf())
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// KeyFingerprint is how people compare keys: "SHA256:" and the unpadded base64 of
// the SHA-256 of the raw public key, as ssh-keygen prints fingerprints.
func KeyFingerprint(key ed25519.PublicKey) string {
	s := sha256.Sum256(key)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(s[:])
}

// maxFile bounds what the decoders read: a seal record of a national estate's worth
// of changes fits, and nothing larger is a seal.
const maxFile = 64 << 20

// decodeStrict decodes one JSON value into v, refusing unknown fields, trailing data
// and oversize input.
func decodeStrict(b []byte, v any) error {
	if len(b) > maxFile {
		return fmt.Errorf("%d bytes: larger than any seal file", len(b))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON value")
	}
	return nil
}

// DecodeSigned reads a signed tree head (root.json) and checks its form; it does not
// check the signature (VerifySignature).
func DecodeSigned(b []byte) (Signed, error) {
	var s Signed
	if err := decodeStrict(b, &s); err != nil {
		return Signed{}, fmt.Errorf("seal root: %w", err)
	}
	if err := s.validate(); err != nil {
		return Signed{}, fmt.Errorf("seal root: %w", err)
	}
	return s, nil
}

// DecodeRecord reads a seal as stored in Stream and checks its form: the head, every
// entry, their order, and that the listing matches the head's digest. It does not
// check the signature or the chain.
func DecodeRecord(b []byte) (Record, error) {
	var r Record
	if err := decodeStrict(b, &r); err != nil {
		return Record{}, fmt.Errorf("seal: %w", err)
	}
	if err := r.validate(); err != nil {
		return Record{}, fmt.Errorf("seal %d: %w", r.Sequence, err)
	}
	if uint64(len(r.Streams)) != r.Changed {
		return Record{}, fmt.Errorf("seal %d: lists %d streams, its head says %d", r.Sequence, len(r.Streams), r.Changed)
	}
	for i, e := range r.Streams {
		if err := e.validate(); err != nil {
			return Record{}, fmt.Errorf("seal %d: %w", r.Sequence, err)
		}
		if i > 0 && r.Streams[i-1].Stream >= e.Stream {
			return Record{}, fmt.Errorf("seal %d: streams not in order at %s", r.Sequence, e.Stream)
		}
	}
	if got := changesDigest(r.Streams); got != r.Changes {
		return Record{}, fmt.Errorf("seal %d: the listing's digest is %s, its head says %s", r.Sequence, got, r.Changes)
	}
	return r, nil
}

// sortEntries sorts by stream name, the order of the tree's leaves.
func sortEntries(es []Entry) {
	slices.SortFunc(es, func(a, b Entry) int { return strings.Compare(a.Stream, b.Stream) })
}

func isHex32(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
