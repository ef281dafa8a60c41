package store

import (
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// remove drops key from the range (tests: a commit between its fsync and
// the mirror's update).
func (m *memRange) remove(key string) {
	if a, ok := toArr(key); ok {
		delete(m.at, a)
	}
}

// The mirror's map has no pointers in its keys or values: the garbage
// collector does not walk its entries.
func TestIdemMirrorMapHoldsNoPointers(t *testing.T) {
	var hasPointers func(reflect.Type) bool
	hasPointers = func(ty reflect.Type) bool {
		switch ty.Kind() {
		case reflect.Array:
			return hasPointers(ty.Elem())
		case reflect.Struct:
			for i := range ty.NumField() {
				if hasPointers(ty.Field(i).Type) {
					return true
				}
			}
			return false
		case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
			reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
			return false
		}
		return true
	}
	ty := reflect.TypeOf(memRange{}.at)
	require.False(t, hasPointers(ty.Key()), "key type %s", ty.Key())
	require.False(t, hasPointers(ty.Elem()), "value type %s", ty.Elem())
}

func TestMemRangeKeepsWhatItHandedOut(t *testing.T) {
	m := newMemRange()
	k := func(i int) string { return strings.Repeat("k", IdemKeySize-1) + string(rune('a'+i)) }
	require.True(t, m.set(k(0), []byte("one")))
	require.True(t, m.set(k(1), []byte("two")))
	v0, ok := m.getS(k(0))
	require.True(t, ok)
	require.False(t, m.set(k(0), []byte("uno")), "a newer value for a key it has")
	require.Equal(t, "one", string(v0), "a value handed out does not change")
	got, _ := m.getS(k(0))
	require.Equal(t, "uno", string(got))
	require.Equal(t, 2, m.len())
	require.Equal(t, []string{k(0), k(1)}, m.keys())
	_, ok = m.get([]byte(k(1)))
	require.True(t, ok)
	_, ok = m.get([]byte("short"))
	require.False(t, ok)

	// Values larger than a chunk, and many values: each readable.
	big := strings.Repeat("x", memChunk+10)
	m.set(k(2), []byte(big))
	for i := range 3000 {
		m.set(k(3+i%20), []byte(strings.Repeat("v", 500)))
	}
	got, _ = m.getS(k(2))
	require.Equal(t, big, string(got))
	require.Equal(t, 23, m.len())

	held, _ := m.getS(k(1))
	m.clear()
	require.Zero(t, m.len())
	require.Equal(t, "two", string(held), "a value handed out outlives the clear")
	require.True(t, m.set(k(1), []byte("new")))
	require.Equal(t, "two", string(held))
}
