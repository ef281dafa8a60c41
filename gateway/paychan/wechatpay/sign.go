package wechatpay

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Params is one flat WeChat Pay v2 message: the children of <xml>.
type Params map[string]string

// SignContent is the string the v2 signature covers (安全规范 › 签名算法,
// https://pay.weixin.qq.com/wiki/doc/api/micropay.php?chapter=4_3): every
// parameter with a non-empty value except sign, sorted by name (ASCII),
// as name=value joined with "&", then "&key=" and the API key.
func SignContent(p Params, apiKey []byte) []byte {
	names := make([]string, 0, len(p))
	for k, v := range p {
		if k == "sign" || v == "" {
			continue
		}
		names = append(names, k)
	}
	sort.Strings(names)
	var b bytes.Buffer
	for _, k := range names {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(p[k])
		b.WriteByte('&')
	}
	b.WriteString("key=")
	b.Write(apiKey)
	return b.Bytes()
}

// Sign is the HMAC-SHA256 signature (sign_type HMAC-SHA256): HMAC of
// SignContent keyed with the API key, upper-case hex.
func Sign(p Params, apiKey []byte) string {
	m := hmac.New(sha256.New, apiKey)
	m.Write(SignContent(p, apiKey))
	return strings.ToUpper(hex.EncodeToString(m.Sum(nil)))
}

// Verify checks p's sign in constant time. Only HMAC-SHA256 is accepted:
// the adapter always asks for it, so an MD5-signed answer is not ours.
func Verify(p Params, apiKey []byte) error {
	if t := p["sign_type"]; t != "" && t != SignTypeHMAC {
		return fmt.Errorf("%w: sign_type %q", ErrSignature, t)
	}
	got := p["sign"]
	if got == "" {
		return fmt.Errorf("%w: no sign", ErrSignature)
	}
	want := Sign(p, apiKey)
	if !hmac.Equal([]byte(strings.ToUpper(got)), []byte(want)) {
		return fmt.Errorf("%w: sign does not match", ErrSignature)
	}
	return nil
}

// SignTypeHMAC is the sign_type the adapter sends.
const SignTypeHMAC = "HMAC-SHA256"

// MaxBody bounds a message read from the network.
const MaxBody = 64 << 10

// Encode writes p as <xml> with every value in CDATA, names sorted so the
// bytes are reproducible.
func Encode(p Params) []byte {
	names := make([]string, 0, len(p))
	for k := range p {
		names = append(names, k)
	}
	sort.Strings(names)
	var b bytes.Buffer
	b.WriteString("<xml>")
	for _, k := range names {
		fmt.Fprintf(&b, "<%s><![CDATA[%s]]></%s>", k, strings.ReplaceAll(p[k], "]]>", "]]]]><![CDATA[>"), k)
	}
	b.WriteString("</xml>")
	return b.Bytes()
}

// Decode reads a flat <xml> message. A nested element, a repeated name or
// trailing content is refused: one message has one meaning.
func Decode(data []byte) (Params, error) {
	if len(data) > MaxBody {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrMessage, MaxBody)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	p := Params{}
	depth := 0
	var name string
	var val strings.Builder
	done := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMessage, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case done:
				return nil, fmt.Errorf("%w: content after </xml>", ErrMessage)
			case depth == 1 && t.Name.Local != "xml":
				return nil, fmt.Errorf("%w: root is not <xml>", ErrMessage)
			case depth == 2:
				name = t.Name.Local
				val.Reset()
				if _, dup := p[name]; dup {
					return nil, fmt.Errorf("%w: %s appears twice", ErrMessage, name)
				}
			case depth > 2:
				return nil, fmt.Errorf("%w: nested element in %s", ErrMessage, name)
			}
		case xml.EndElement:
			if depth == 2 {
				p[name] = val.String()
			}
			depth--
			if depth == 0 {
				done = true
			}
		case xml.CharData:
			if depth == 2 {
				val.Write(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, fmt.Errorf("%w: text outside an element", ErrMessage)
			}
		case xml.Directive:
			return nil, fmt.Errorf("%w: directive", ErrMessage)
		}
	}
	if !done {
		return nil, fmt.Errorf("%w: no <xml> element", ErrMessage)
	}
	return p, nil
}
