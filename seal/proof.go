package seal

import (
	"encoding/hex"
	"errors"
	"fmt"
)

// Tree is the full set of sealed streams as of one seal, sorted by name: the leaves
// of that seal's Merkle tree.
type Tree struct {
	entries []Entry
	leaves  []Hash
	index   map[string]int
}

// newTree builds the tree over set (stream name to its latest sealed entry).
func newTree(set map[string]Entry) *Tree {
	t := &Tree{entries: make([]Entry, 0, len(set)), index: make(map[string]int, len(set))}
	for _, e := range set {
		t.entries = append(t.entries, e)
	}
	sortEntries(t.entries)
	t.leaves = make([]Hash, len(t.entries))
	for i, e := range t.entries {
		t.leaves[i] = e.LeafHash()
		t.index[e.Stream] = i
	}
	return t
}

// Root is the tree's Merkle root.
func (t *Tree) Root() Hash { return Root(t.leaves) }

// Size is how many streams the tree holds.
func (t *Tree) Size() int { return len(t.entries) }

// Entries are the sealed streams, sorted by name. The slice is the tree's own.
func (t *Tree) Entries() []Entry { return t.entries }

// Proof is the inclusion proof of one stream in one seal: what an inspector exports
// as proof.json and checks against that seal's signed head (Check).
type Proof struct {
	Version int `json:"version"`
	// Sequence, Root and Size name the seal the proof is against.
	Sequence uint64 `json:"sequence"`
	Root     string `json:"root"`
	Size     uint64 `json:"size"`
	// Entry is the stream as sealed: its last revision and hash.
	Entry
	// Index is the stream's leaf in the tree (streams sorted by name) and Path the
	// audit path from that leaf to the root, hex, lowest first (RFC 6962 PATH).
	Index uint64   `json:"index"`
	Path  []string `json:"path"`
}

// proof is the inclusion proof of stream against the seal whose head is h, or false
// when the stream is not in the tree.
func (t *Tree) proof(h Head, stream string) (Proof, bool) {
	i, ok := t.index[stream]
	if !ok {
		return Proof{}, false
	}
	p := Proof{Version: Version, Sequence: h.Sequence, Root: h.Root, Size: h.Size, Entry: t.entries[i], Index: uint64(i)}
	for _, s := range InclusionProof(t.leaves, i) {
		p.Path = append(p.Path, hex.EncodeToString(s[:]))
	}
	return p, true
}

// maxPath is the longest audit path a tree of 2^64 leaves can have.
const maxPath = 64

// DecodeProof reads an inclusion proof (proof.json) and checks its form; Check
// checks what it proves.
func DecodeProof(b []byte) (Proof, error) {
	var p Proof
	if err := decodeStrict(b, &p); err != nil {
		return Proof{}, fmt.Errorf("seal proof: %w", err)
	}
	if p.Version != Version {
		return Proof{}, fmt.Errorf("seal proof: version %d: this ledger reads proofs of version %d", p.Version, Version)
	}
	if !isHex32(p.Root) {
		return Proof{}, fmt.Errorf("seal proof: root %q is not 64 hex digits", p.Root)
	}
	if err := p.Entry.validate(); err != nil {
		return Proof{}, fmt.Errorf("seal proof: %w", err)
	}
	if p.Index >= p.Size {
		return Proof{}, fmt.Errorf("seal proof: leaf %d of a tree of %d", p.Index, p.Size)
	}
	if len(p.Path) > maxPath {
		return Proof{}, fmt.Errorf("seal proof: a path of %d hashes is longer than any tree needs", len(p.Path))
	}
	for _, s := range p.Path {
		if !isHex32(s) {
			return Proof{}, fmt.Errorf("seal proof: path hash %q is not 64 hex digits", s)
		}
	}
	return p, nil
}

// ErrNotProven is what Check answers when the files are well formed but do not prove
// what they claim.
var ErrNotProven = errors.New("not proven")

// Check verifies, without any store, that the seal root is signed by its key and
// that the proof shows the entry in that seal's tree. It does not say whether the
// key is the ledger's: compare KeyFingerprint(root's key) with the one the ledger
// publishes.
func Check(root Signed, p Proof) error {
	if err := root.VerifySignature(); err != nil {
		return fmt.Errorf("%w: seal root: %w", ErrNotProven, err)
	}
	if p.Sequence != root.Sequence || p.Root != root.Root || p.Size != root.Size {
		return fmt.Errorf("%w: the proof is for seal %d (root %s, %d streams), the root file is seal %d (root %s, %d streams): export both from the same seal",
			ErrNotProven, p.Sequence, p.Root, p.Size, root.Sequence, root.Root, root.Size)
	}
	path := make([]Hash, len(p.Path))
	for i, s := range p.Path {
		if _, err := hex.Decode(path[i][:], []byte(s)); err != nil {
			return fmt.Errorf("%w: path hash %d: %w", ErrNotProven, i, err)
		}
	}
	var want Hash
	if _, err := hex.Decode(want[:], []byte(root.Root)); err != nil {
		return fmt.Errorf("%w: root: %w", ErrNotProven, err)
	}
	if !VerifyInclusion(p.Entry.LeafHash(), p.Index, p.Size, path, want) {
		return fmt.Errorf("%w: the audit path from %s at revision %d does not lead to the sealed root", ErrNotProven, p.Stream, p.Revision)
	}
	return nil
}
