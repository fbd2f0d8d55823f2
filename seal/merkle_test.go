package seal

import (
	"crypto/sha256"
	"fmt"
	"testing"
)

func leaves(n int) []Hash {
	out := make([]Hash, n)
	for i := range out {
		out[i] = LeafHash([]byte(fmt.Sprintf("leaf %d", i)))
	}
	return out
}

// stackRoot is an independent computation of the RFC 6962 root: the iterative
// form logs use when appending, merging equal-sized subtrees on a stack.
func stackRoot(ls []Hash) Hash {
	if len(ls) == 0 {
		return sha256.Sum256(nil)
	}
	type sub struct {
		h    Hash
		size int
	}
	var st []sub
	for _, l := range ls {
		st = append(st, sub{l, 1})
		for len(st) > 1 && st[len(st)-1].size == st[len(st)-2].size {
			r, l := st[len(st)-1], st[len(st)-2]
			st = append(st[:len(st)-2], sub{NodeHash(l.h, r.h), l.size * 2})
		}
	}
	h := st[len(st)-1].h
	for i := len(st) - 2; i >= 0; i-- {
		h = NodeHash(st[i].h, h)
	}
	return h
}

// The RFC 6962 test vectors' shape: the empty tree is SHA-256 of nothing, a tree of
// one is its leaf, and the recursive root agrees with the stack-based one for every
// size up to 130.
func TestRootAgreesWithIndependentComputation(t *testing.T) {
	if Root(nil) != sha256.Sum256(nil) {
		t.Fatal("empty root")
	}
	// RFC 6962's empty-leaf hash, as published in the CT test vectors.
	if got := fmt.Sprintf("%x", LeafHash(nil)); got != "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d" {
		t.Fatalf("leaf hash of the empty string: %s", got)
	}
	for n := 1; n <= 130; n++ {
		ls := leaves(n)
		if Root(ls) != stackRoot(ls) {
			t.Fatalf("size %d: roots differ", n)
		}
	}
}

// Every leaf of every tree up to 70 leaves has a proof that verifies, and changing
// the leaf, the index, the root or any hash of the path makes it fail.
func TestInclusionProofs(t *testing.T) {
	for n := 1; n <= 70; n++ {
		ls := leaves(n)
		root := Root(ls)
		for i := range n {
			p := InclusionProof(ls, i)
			if !VerifyInclusion(ls[i], uint64(i), uint64(n), p, root) {
				t.Fatalf("size %d leaf %d: proof does not verify", n, i)
			}
			other := LeafHash([]byte("other"))
			if VerifyInclusion(other, uint64(i), uint64(n), p, root) {
				t.Fatalf("size %d leaf %d: another leaf verifies", n, i)
			}
			if n > 1 && VerifyInclusion(ls[i], uint64((i+1)%n), uint64(n), p, root) {
				t.Fatalf("size %d leaf %d: wrong index verifies", n, i)
			}
			// The size is not checked here: RFC 6962 does not bind it into the root
			// (a path can fit trees of two sizes); the signed head binds it.
			if VerifyInclusion(ls[i], uint64(i), uint64(n), p, LeafHash([]byte("root"))) {
				t.Fatalf("size %d leaf %d: wrong root verifies", n, i)
			}
			for j := range p {
				bad := append([]Hash(nil), p...)
				bad[j][0] ^= 1
				if VerifyInclusion(ls[i], uint64(i), uint64(n), bad, root) {
					t.Fatalf("size %d leaf %d: path hash %d changed and it verifies", n, i, j)
				}
			}
			if len(p) > 0 && VerifyInclusion(ls[i], uint64(i), uint64(n), p[:len(p)-1], root) {
				t.Fatalf("size %d leaf %d: a path cut short verifies", n, i)
			}
			if VerifyInclusion(ls[i], uint64(i), uint64(n), append(p, root), root) {
				t.Fatalf("size %d leaf %d: a path with an extra hash verifies", n, i)
			}
		}
		if InclusionProof(ls, n) != nil || InclusionProof(ls, -1) != nil {
			t.Fatalf("size %d: proof of a leaf out of range", n)
		}
		if VerifyInclusion(ls[0], uint64(n), uint64(n), nil, root) {
			t.Fatalf("size %d: index equal to size verifies", n)
		}
	}
}

// A leaf cannot pass for an interior node: the domain prefixes differ.
func TestLeafAndNodeDomainsDiffer(t *testing.T) {
	a, b := LeafHash([]byte("a")), LeafHash([]byte("b"))
	node := NodeHash(a, b)
	var data []byte
	data = append(data, a[:]...)
	data = append(data, b[:]...)
	if LeafHash(data) == node {
		t.Fatal("a leaf of two hashes equals their node")
	}
}
