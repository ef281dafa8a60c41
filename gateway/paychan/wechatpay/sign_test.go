package wechatpay

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The worked example of 安全规范 › 签名算法 (chapter 4_3).
var docExample = Params{"appid": "wxd930ea5d5a258f4f", "mch_id": "10000100", "device_info": "1000",
	"body": "test", "nonce_str": "ibuaiVcKdpRxkhJA"}

const docKey = "192006250b4c09247ec02edce69f6a2d"

func TestSignMatchesTheDocumentsExample(t *testing.T) {
	c := SignContent(docExample, []byte(docKey))
	require.Equal(t, "appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA&key="+docKey, string(c))
	sum := md5.Sum(c)
	require.Equal(t, "9A0A8659F005D6984697E2CA0A9CF3B7", strings.ToUpper(hex.EncodeToString(sum[:])))
	require.Equal(t, "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6", Sign(docExample, []byte(docKey)))
}
