package refcentre

import (
	"encoding/binary"
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"

	"ecardgw/gateway/centre"
)

// blEntry is one blacklist change; the key is its version.
type blEntry struct {
	Card string    `json:"card"`
	Add  bool      `json:"add"`
	Time time.Time `json:"time"`
}

// blacklistAdd appends a change with the next version. Entries are never
// rewritten, so a replica's deltas since a version stay valid.
func (l ledgerTx) blacklistAdd(card string, add bool) (uint32, error) {
	b := l.tx.Bucket(bktBlacklist)
	var ver uint32
	if k, _ := b.Cursor().Last(); len(k) == 4 {
		ver = binary.BigEndian.Uint32(k)
	}
	ver++
	return ver, putJSON(b, binary.BigEndian.AppendUint32(nil, ver), blEntry{Card: card, Add: add, Time: l.now})
}

func (c *Centre) blacklist(since uint32, limit int) (centre.WireBlacklistPage, error) {
	page := centre.WireBlacklistPage{Entries: []centre.WireBlacklistEntry{}}
	err := c.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktBlacklist)
		cur := b.Cursor()
		if k, _ := cur.Last(); len(k) == 4 {
			page.Version = binary.BigEndian.Uint32(k)
		}
		for k, v := cur.Seek(binary.BigEndian.AppendUint32(nil, since+1)); k != nil; k, v = cur.Next() {
			if len(page.Entries) == limit {
				page.More = true
				return nil
			}
			var e blEntry
			if len(k) != 4 || json.Unmarshal(v, &e) != nil {
				return ErrCorrupt
			}
			page.Entries = append(page.Entries, centre.WireBlacklistEntry{
				Version: binary.BigEndian.Uint32(k), Card: e.Card, Add: e.Add})
		}
		return nil
	})
	return page, err
}
