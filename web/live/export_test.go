package live

// HubStats are the shared subscription's figures, for tests.
type HubStats struct {
	// Hubs is how many shared subscriptions were started.
	Hubs int64
	// Kinds and Registered are the principal kinds and connections the
	// running hub serves now.
	Kinds, Registered int
	// CatchUps counts the catch-up subscriptions opened, Lapses the backlogs
	// discarded while buffering, SwitchDropped the buffered events dropped at
	// switch-over because the catch-up had covered them.
	CatchUps, Lapses, SwitchDropped int64
}

func (h *Handler) HubStats() HubStats {
	st := HubStats{Hubs: h.hubsStarted.Load(), CatchUps: h.counters.catchUps.Load(),
		Lapses: h.counters.lapses.Load(), SwitchDropped: h.counters.switchDropped.Load()}
	h.hubMu.Lock()
	hb := h.hub
	h.hubMu.Unlock()
	if hb != nil {
		hb.mu.Lock()
		st.Kinds = len(hb.kinds)
		for _, k := range hb.kinds {
			st.Registered += len(k.subs)
		}
		hb.mu.Unlock()
	}
	return st
}

// SetBacklog bounds every connection's backlog to n.
func SetBacklog(c *Config, n int) { c.backlog = n }
