package vcard

import (
	"time"

	"ecardgw/cardio/campuscard"
	"ecardgw/cardio/pboc"
)

// DemoSerial is the application serial number of the demo card; its card
// number (last 12 digits) is 202601234567.
var DemoSerial = [pboc.SerialLen]byte{0x10, 0x00, 0x00, 0x00, 0x20, 0x26, 0x01, 0x23, 0x45, 0x67}

// DemoConfig returns a student card for tests and demos whose load key is
// derived from master exactly as the gateway derives it, so loads
// authorised with the same master key succeed.
func DemoConfig(master [16]byte) Config {
	key, err := pboc.DeriveCardKey(master, DemoSerial[:])
	if err != nil {
		panic("vcard: demo serial has the wrong length") // fixed above
	}
	return Config{
		Info: campuscard.AppInfo{
			IssuerID:  "ECARDU01",
			AppType:   0x01,
			Version:   0x01,
			Serial:    DemoSerial,
			ValidFrom: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC),
			ValidTo:   time.Date(2030, 7, 31, 0, 0, 0, 0, time.UTC),
		},
		Holder: campuscard.Holder{
			Account:  10000042,
			CardType: campuscard.TypeStudent,
			Name:     "张三",
			StaffNo:  "2026010001",
		},
		UID:        []byte{0x04, 0xA1, 0xB2, 0xC3},
		LoadKey:    key,
		KeyIndex:   1,
		KeyVersion: 0x01,
		AlgID:      0x00,
		Balance:    350,
		WaterTerm:  [6]byte{0x00, 0x00, 0x00, 0x00, 0x77, 0x01},
	}
}

// DemoCardNumber is the card number of DemoSerial (mask it before
// printing).
const DemoCardNumber = "202601234567"
