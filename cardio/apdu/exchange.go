package apdu

import "fmt"

// Transmitter sends one command APDU and returns the raw response APDU.
// Implementations wrap ErrCardRemoved when the card has gone.
type Transmitter interface {
	Transmit(cmd []byte) ([]byte, error)
}

// maxChain bounds the GET RESPONSE chain: 64 × 256 bytes is far beyond any
// campus-card answer, and a card (or a fake) answering 61xx forever must
// not hang the caller.
const maxChain = 64

// Exchange sends c and returns the response data of a 9000 answer. It
// issues GET RESPONSE (00 C0 00 00 xx) while the card answers 61xx,
// concatenating the pieces, and repeats the command once with Le = xx on
// 6Cxx. Any other status word is a *StatusError. Data longer than c.Ne
// (or any data when c.Ne is 0) is ErrTooLong.
func Exchange(t Transmitter, c Command) ([]byte, error) {
	raw, err := c.Bytes()
	if err != nil {
		return nil, err
	}
	r, err := transmit(t, raw)
	if err != nil {
		return nil, err
	}
	if r.SW1() == 0x6C {
		c.Ne = leToNe(r.SW2())
		if raw, err = c.Bytes(); err != nil {
			return nil, err
		}
		if r, err = transmit(t, raw); err != nil {
			return nil, err
		}
		if r.SW1() == 0x6C {
			return nil, ErrChain
		}
	}
	// Copy: the transmitter may reuse its buffer on the next call.
	data := append([]byte(nil), r.Data...)
	for i := 0; r.SW1() == 0x61; i++ {
		if i == maxChain {
			return nil, ErrChain
		}
		get := []byte{0x00, 0xC0, 0x00, 0x00, r.SW2()}
		if r, err = transmit(t, get); err != nil {
			return nil, err
		}
		data = append(data, r.Data...)
	}
	if r.SW != SWOK {
		return nil, &StatusError{SW: r.SW}
	}
	if len(data) > c.Ne {
		return nil, fmt.Errorf("%w: %d bytes, at most %d expected", ErrTooLong, len(data), c.Ne)
	}
	return data, nil
}

func transmit(t Transmitter, raw []byte) (Response, error) {
	b, err := t.Transmit(raw)
	if err != nil {
		return Response{}, fmt.Errorf("apdu: transmit: %w", err)
	}
	return ParseResponse(b)
}
