package campuscode_test

import (
	"testing"
	"time"

	"ecardgw/gateway/campuscode"

	"github.com/stretchr/testify/require"
)

// FuzzParse: no input panics; a text that parses re-encodes to the same
// payload bytes and the same text (Base45 with its range checks is
// canonical); and the full verifier answers every input with a campus code
// response, never anything else.
func FuzzParse(f *testing.F) {
	ks := loadVectorKeys(f)
	v, err := campuscode.NewVerifier(vectorConfig(ks))
	require.NoError(f, err)
	for _, vec := range readVectors(f) {
		f.Add([]byte(vec.code))
	}
	f.Add([]byte(campuscode.Prefix))
	f.Add([]byte("CC1:BB8"))
	now := time.Unix(vecNow, 0).UTC()

	f.Fuzz(func(t *testing.T, text []byte) {
		c, err := campuscode.Parse(text)
		if err != nil {
			require.ErrorIs(t, err, campuscode.ErrMalformed)
			require.Equal(t, "malformed", campuscode.Reason(err))
		} else {
			payload := campuscode.AppendPayload(nil, &c)
			require.Equal(t, c.Payload, payload)
			require.Equal(t, string(text), string(campuscode.AppendText(nil, payload)))
			require.Len(t, payload, campuscode.PayloadLen(c.Alg.KeyLen()))
		}

		_, verr := v.Verify(text, now)
		if err != nil {
			require.ErrorIs(t, verr, campuscode.ErrMalformed)
		}
		require.NotEqual(t, "96", campuscode.ResponseCode(verr))
		require.NotEqual(t, "other", campuscode.Reason(verr))
	})
}
