package posim

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind is one kind of simulated transaction.
type Kind int

const (
	KindCard    Kind = iota // 0200/000000 with the card (entry mode 071)
	KindCode                // 0200/000000 with a freshly minted campus code
	KindWeChat              // 0200/000000 with a WeChat Pay payment code
	KindAlipay              // 0200/000000 with an Alipay payment code
	KindWallet              // 0200/190000 small-wallet load at a settlement POS
	KindInquiry             // 0100/310000 balance inquiry by card
	KindEcho                // 0820/301 echo test (no MAC, no business logic)
	numKinds
)

var kindNames = [numKinds]string{"card", "code", "wechat", "alipay", "wallet", "inquiry", "echo"}

func (k Kind) String() string {
	if k < 0 || k >= numKinds {
		return "kind(" + strconv.Itoa(int(k)) + ")"
	}
	return kindNames[k]
}

// Kinds lists every kind in display order.
func Kinds() []Kind {
	out := make([]Kind, numKinds)
	for i := range out {
		out[i] = Kind(i)
	}
	return out
}

// Mix is a weight per kind; weights are relative (they need not add to 100).
type Mix [numKinds]int

// LunchPeak is the default mix: a canteen at lunch.
var LunchPeak = Mix{KindCard: 60, KindCode: 25, KindWeChat: 5, KindAlipay: 5, KindWallet: 2, KindInquiry: 3}

// ParseMix reads "card=60,code=25,wechat=5" (kinds not named weigh 0).
func ParseMix(s string) (Mix, error) {
	var m Mix
	seen := map[string]bool{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		if !ok {
			return Mix{}, fmt.Errorf("%w: %q is not kind=weight", ErrMix, part)
		}
		name = strings.ToLower(strings.TrimSpace(name))
		k, ok := kindByName(name)
		if !ok {
			return Mix{}, fmt.Errorf("%w: unknown kind %q (want one of %s)", ErrMix, name, strings.Join(kindNames[:], ", "))
		}
		if seen[name] {
			return Mix{}, fmt.Errorf("%w: %s given twice", ErrMix, name)
		}
		seen[name] = true
		w, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil || w < 0 || w > 1_000_000 {
			return Mix{}, fmt.Errorf("%w: weight of %s must be 0..1000000, got %q", ErrMix, name, val)
		}
		m[k] = w
	}
	if m.Total() == 0 {
		return Mix{}, fmt.Errorf("%w: all weights are zero", ErrMix)
	}
	return m, nil
}

func kindByName(name string) (Kind, bool) {
	for i, n := range kindNames {
		if n == name {
			return Kind(i), true
		}
	}
	return 0, false
}

// Total is the sum of the weights.
func (m Mix) Total() int {
	t := 0
	for _, w := range m {
		t += w
	}
	return t
}

// Without returns the mix with kind k's weight removed.
func (m Mix) Without(k Kind) Mix {
	m[k] = 0
	return m
}

// Pick maps r (uniform in [0, Total)) to a kind, by cumulative weight.
func (m Mix) Pick(r int) Kind {
	for i, w := range m {
		if r < w {
			return Kind(i)
		}
		r -= w
	}
	return KindEcho // unreachable for r in range; echo harms nothing
}

// String is the canonical form ParseMix reads back.
func (m Mix) String() string {
	var b strings.Builder
	for i, w := range m {
		if w == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%d", kindNames[i], w)
	}
	return b.String()
}

// Map is the mix as a JSON-friendly map of the non-zero weights.
func (m Mix) Map() map[string]int {
	out := map[string]int{}
	for i, w := range m {
		if w > 0 {
			out[kindNames[i]] = w
		}
	}
	return out
}
