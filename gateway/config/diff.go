package config

import (
	"fmt"
	"sort"
	"strings"
)

// CheckKeys reports every configured terminal without a TMK in k. Keys for
// terminals that are not configured are allowed: a terminal can be taken
// out of service in the configuration before its key is removed.
func (c *Config) CheckKeys(k *Keys) error {
	var missing []string
	for _, t := range c.Terminals {
		if _, ok := k.TMK(t.ID); !ok {
			missing = append(missing, t.ID)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return &Error{
		Key:     "terminals",
		Problem: fmt.Sprintf("no TMK in %s for %s", c.Keys.File, strings.Join(missing, ", ")),
		Err:     ErrMissingKey,
	}
}

// DiffTerminals compares the terminal sets before and after a reload and
// returns the ids added, removed and changed (merchant, type, location,
// mak or legacy_signout), each sorted. Sessions of removed or changed
// terminals are the caller's to end.
func DiffTerminals(old, new []Terminal) (added, removed, changed []string) {
	before := make(map[string]Terminal, len(old))
	for _, t := range old {
		before[t.ID] = t
	}
	after := make(map[string]Terminal, len(new))
	for _, t := range new {
		after[t.ID] = t
		o, ok := before[t.ID]
		switch {
		case !ok:
			added = append(added, t.ID)
		case o != t:
			changed = append(changed, t.ID)
		}
	}
	for _, t := range old {
		if _, ok := after[t.ID]; !ok {
			removed = append(removed, t.ID)
		}
	}
	sort.Strings(added)
	sort.Strings(removed)
	sort.Strings(changed)
	return added, removed, changed
}

// DiffKeys returns the ids of terminals whose TMK differs between two key
// files (added, removed or replaced), sorted: their sessions must end
// because working keys were wrapped under the old TMK.
func DiffKeys(old, new *Keys) []string {
	var ids []string
	for id, k := range new.Terminals {
		if o, ok := old.Terminals[id]; !ok || !o.Equal(k) {
			ids = append(ids, id)
		}
	}
	for id := range old.Terminals {
		if _, ok := new.Terminals[id]; !ok {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}
