package strictjson

import (
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode"
)

var fieldCache sync.Map // reflect.Type -> *structFields

// fieldsOf lists the JSON names of struct type t by encoding/json's
// rules: exported fields and the exported fields of embedded structs
// without a name tag, named by their tag or else their Go name, "-"
// skipped; of several fields with one name the shallowest wins, then the
// one tagged, and if that leaves more than one, none.
func fieldsOf(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	type field struct {
		name   string
		depth  int
		tagged bool
		typ    reflect.Type
	}
	var all []field
	// Breadth first over embedded structs, as encoding/json does; a type
	// met again at a deeper level adds nothing (its fields lose anyway),
	// and one embedded twice at the same level gives each of its fields
	// twice, so that they cancel out.
	visited := map[reflect.Type]bool{}
	level := []reflect.Type{t}
	count := map[reflect.Type]int{t: 1}
	for depth := 0; len(level) > 0; depth++ {
		var next []reflect.Type
		nextCount := map[reflect.Type]int{}
		for _, st := range level {
			if visited[st] {
				continue
			}
			visited[st] = true
			for i := range st.NumField() {
				sf := st.Field(i)
				if sf.Anonymous {
					et := sf.Type
					if et.Kind() == reflect.Pointer {
						et = et.Elem()
					}
					if !sf.IsExported() && et.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, _, _ := strings.Cut(tag, ",")
				if !validTag(name) {
					name = ""
				}
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					tagged := name != ""
					if name == "" {
						name = sf.Name
					}
					all = append(all, field{name: name, depth: depth, tagged: tagged, typ: sf.Type})
					if count[st] > 1 {
						all = append(all, all[len(all)-1])
					}
					continue
				}
				nextCount[ft]++
				if nextCount[ft] == 1 {
					next = append(next, ft)
				}
			}
		}
		level, count = next, nextCount
	}
	slices.SortStableFunc(all, func(a, b field) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if a.depth != b.depth {
			return a.depth - b.depth
		}
		if a.tagged != b.tagged {
			if a.tagged {
				return -1
			}
			return 1
		}
		return 0
	})
	out := &structFields{byName: map[string]reflect.Type{}}
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].name == all[i].name {
			j++
		}
		group := all[i:j]
		// The dominant field: alone at the shallowest depth, or the only
		// tagged one there.
		if len(group) == 1 || group[1].depth > group[0].depth || group[0].tagged && !group[1].tagged {
			out.byName[group[0].name] = group[0].typ
			out.names = append(out.names, group[0].name)
		}
		i = j
	}
	f, _ := fieldCache.LoadOrStore(t, out)
	return f.(*structFields)
}

// validTag is encoding/json's rule for a usable name in a json tag.
func validTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}
