package chanemu_test

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/paychan/wechatpay"
)

func md5Sign(content []byte) string {
	s := md5.Sum(content)
	return hex.EncodeToString(s[:])
}

// verifyMD5 checks an MD5-signed answer with the document's key.
func verifyMD5(a wechatpay.Params) error {
	if strings.ToUpper(md5Sign(wechatpay.SignContent(a, []byte(docKey)))) != a["sign"] {
		return errors.New("bad MD5 sign")
	}
	return nil
}

// answerKeys lists the members of an Alipay answer's *_response object.
func answerKeys(t *testing.T, body []byte) []string {
	var top map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &top))
	var member map[string]any
	require.NoError(t, json.Unmarshal(top["alipay_trade_pay_response"], &member))
	var keys []string
	for k := range member {
		keys = append(keys, k)
	}
	require.NotEmpty(t, keys)
	return keys
}
