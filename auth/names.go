package auth

import (
	"strings"
	"sync"
)

// Names says who a principal id is, for people reading a history: the name
// of a built-in token (from the token store, so every token ever issued is
// known) or the name an identity provider gave a user (remembered from
// their sign-ins since this process started, as the ledger keeps no
// directory of identity provider users). Events record the id, which the
// hash chain covers; the name is looked up when the history is shown.
//
// The zero value knows no names; a nil *Names knows none either.
type Names struct {
	// Tokens, when set, names "token:<id>" principals.
	Tokens *Tokens

	mu   sync.RWMutex
	seen map[string]string
}

// maxRemembered bounds the names remembered from sign-ins.
const maxRemembered = 100_000

// Remember records the name of p (an identity provider user signing in).
func (n *Names) Remember(p Principal) {
	if n == nil || p.Name == "" || p.ID == "" || strings.HasPrefix(p.ID, "token:") {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.seen == nil {
		n.seen = map[string]string{}
	}
	if _, ok := n.seen[p.ID]; !ok && len(n.seen) >= maxRemembered {
		return
	}
	n.seen[p.ID] = p.Name
}

// Name is the name of the principal id, or "" when none is known.
func (n *Names) Name(id string) string {
	if n == nil {
		return ""
	}
	if tid, ok := strings.CutPrefix(id, "token:"); ok && n.Tokens != nil {
		if info, ok := n.Tokens.get(tid); ok {
			return info.Name
		}
		return ""
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.seen[id]
}
