package bundle

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// The bundle's JSON is protojson's, field names as in the proto, with the
// whitespace protojson randomises removed. Encoding every resource through
// protojson and then compacting it costs a large share of a compile: for
// every message protojson collects and sorts the populated fields, and the
// compaction copies everything again. appendJSON writes the same bytes
// directly: fields in declaration order (the order protojson sorts them
// into), values as protojson formats them, no whitespace, reading
// generated messages through their Go structs (protojson_struct.go). What
// it does not write itself (extensions, MessageSets) it hands to protojson
// whole, so its output is protojson's compacted output for every message,
// and it fails wherever protojson fails. The tests hold it to protojson on
// compiled bundles and on random messages of every Envoy resource type.

// errHandOver stops appendJSON's own encoding of a message that protojson
// is to encode instead.
var errHandOver = errors.New("message left to protojson")

var errInvalidUTF8 = errors.New("invalid UTF-8")

// appendJSON appends the compact protojson encoding of m (UseProtoNames) to
// b: the bytes json.Compact makes of protojson's output.
func appendJSON(b []byte, m proto.Message) ([]byte, error) {
	if m == nil {
		return append(b, "{}"...), nil
	}
	start := len(b)
	e := encoders.Get().(*jsonEncoder)
	out, err := e.message(b, m.ProtoReflect())
	e.release()
	switch {
	case errors.Is(err, errHandOver):
		return appendProtoJSON(b[:start], m)
	case err != nil:
		return b[:start], err
	}
	// protojson checks required fields once the message is written.
	if err := proto.CheckInitialized(m); err != nil {
		return b[:start], err
	}
	return out, nil
}

// appendProtoJSON appends protojson's encoding of m, compacted.
func appendProtoJSON(b []byte, m proto.Message) ([]byte, error) {
	js, err := marshal.Marshal(m)
	if err != nil {
		return b, err
	}
	buf := bytes.NewBuffer(b)
	if err := json.Compact(buf, js); err != nil {
		return b, fmt.Errorf("compact json: %w", err)
	}
	return buf.Bytes(), nil
}

// jsonEncoder holds the scratch space of one appendJSON call, reused
// through encoders.
type jsonEncoder struct {
	// entries is a stack of the entries of the maps being written: a map
	// pushes its entries, sorts them in place, writes them and pops them.
	entries []mapEntry
	// push is e.pushEntry, made once: a method value made per map would
	// be allocated per map.
	push func(protoreflect.MapKey, protoreflect.Value) bool
}

func (e *jsonEncoder) pushEntry(k protoreflect.MapKey, v protoreflect.Value) bool {
	e.entries = append(e.entries, mapEntry{k, v})
	return true
}

type mapEntry struct {
	k protoreflect.MapKey
	v protoreflect.Value
}

var encoders = sync.Pool{New: func() any {
	e := new(jsonEncoder)
	e.push = e.pushEntry
	return e
}}

func (e *jsonEncoder) release() {
	clear(e.entries[:cap(e.entries)])
	e.entries = e.entries[:0]
	if cap(e.entries) <= 1<<12 {
		encoders.Put(e)
	}
}

// shape says how a message type is written.
type shape uint8

const (
	plainShape     shape = iota // an object of its populated fields
	anyShape                    // google.protobuf.Any
	durationShape               // google.protobuf.Duration
	timestampShape              // google.protobuf.Timestamp
	wrapperShape                // google.protobuf.*Value wrappers: their value
	structShape                 // google.protobuf.Struct: its fields map
	listShape                   // google.protobuf.ListValue: its values
	valueShape                  // google.protobuf.Value: its kind
	fieldMaskShape              // google.protobuf.FieldMask: one string
	handOverShape               // a MessageSet: left to protojson
)

// messageInfo is what encoding needs of a message type, worked out once.
type messageInfo struct {
	desc  protoreflect.MessageDescriptor
	shape shape
	// fields are every field of the message in declaration order.
	fields []fieldInfo
	// extensible is set when the message declares extension ranges: its
	// populated extensions, if any, make it protojson's.
	extensible bool
	// first and second are the fields numbered 1 and 2, which hold what
	// the well-known types write (Any's type_url and value, a Duration's
	// seconds and nanos, a wrapper's value...); kind is Value's oneof.
	first, second *fieldInfo
	kind          protoreflect.OneofDescriptor
	// layout is where the generated Go type keeps the fields, once seen.
	layout atomic.Pointer[goLayout]
}

// fieldInfo is one field: its JSON name, how to tell whether it is
// populated, and how its values are written.
type fieldInfo struct {
	fd       protoreflect.FieldDescriptor
	name     []byte // `"text_name":`
	presence presence
	// oneof is the field's oneof, and slot the place of its member that is
	// set in fields' table of them, for presence oneofMember.
	oneof      protoreflect.OneofDescriptor
	slot       int
	firstOfOne bool // the first member of its oneof in declaration order
	list       bool
	isMap      bool
	key        protoreflect.Kind // the key kind of a map
	// value describes the field's values: the field's own, a list's
	// elements, or a map's values.
	value valueInfo
}

// presence says how to find out whether a field is populated at the
// least cost. Has and Get each cost a reflection of the field in generated
// messages; a populated field is read with Get anyway.
type presence uint8

const (
	// hasThenGet: Has, then Get (lists and maps, whose empty Get
	// allocates; fields with explicit presence, which Get cannot tell).
	hasThenGet presence = iota
	// nonZero: a scalar without presence is populated when not zero.
	nonZero
	// validMessage: a message field is populated when Get gives a valid
	// message (an unpopulated one gives an empty read-only one).
	validMessage
	// oneofMember: one WhichOneof for all the members of a oneof.
	oneofMember
)

// maxOneofSlots is how many oneofs of a message get one WhichOneof; the
// members of the rest are asked Has one by one.
const maxOneofSlots = 8

type valueInfo struct {
	fd   protoreflect.FieldDescriptor
	kind protoreflect.Kind
	enum *enumInfo
	// child caches the messageInfo of a message-valued field.
	child atomic.Pointer[messageInfo]
}

// enumInfo holds the JSON of an enum's values: the quoted name of each
// number that has one, in a table for small non-negative numbers.
type enumInfo struct {
	null   bool // google.protobuf.NullValue: always null
	values protoreflect.EnumValueDescriptors
	names  [][]byte
}

// maxEnumTable bounds the enum numbers that get a table entry; the rest
// are looked up in the descriptor.
const maxEnumTable = 1024

var messageInfos sync.Map // protoreflect.MessageDescriptor → *messageInfo

func infoOf(md protoreflect.MessageDescriptor) *messageInfo {
	if mi, ok := messageInfos.Load(md); ok {
		return mi.(*messageInfo)
	}
	mi, _ := messageInfos.LoadOrStore(md, newMessageInfo(md))
	return mi.(*messageInfo)
}

func newMessageInfo(md protoreflect.MessageDescriptor) *messageInfo {
	mi := &messageInfo{desc: md, shape: shapeOf(md), extensible: md.ExtensionRanges().Len() > 0}
	fds := md.Fields()
	mi.fields = make([]fieldInfo, fds.Len())
	slots := map[protoreflect.OneofDescriptor]int{}
	for i := range fds.Len() {
		fd := fds.Get(i)
		f := &mi.fields[i]
		f.fd = fd
		f.name, _ = appendString(nil, fd.TextName())
		f.name = append(f.name, ':')
		f.list = fd.IsList()
		f.isMap = fd.IsMap()
		od := fd.ContainingOneof()
		switch {
		case od != nil && !od.IsSynthetic() && !fd.IsExtension():
			slot, seen := slots[od]
			if !seen {
				slot = len(slots)
				slots[od] = slot
			}
			if slot < maxOneofSlots {
				f.presence, f.oneof, f.slot, f.firstOfOne = oneofMember, od, slot, !seen
			}
		case f.list || f.isMap || fd.HasPresence() && fd.Message() == nil:
			f.presence = hasThenGet
		case fd.Message() != nil:
			f.presence = validMessage
		default:
			f.presence = nonZero
		}
		vd := fd
		if f.isMap {
			f.key = fd.MapKey().Kind()
			vd = fd.MapValue()
		}
		f.value.fd = vd
		f.value.kind = vd.Kind()
		if vd.Kind() == protoreflect.EnumKind {
			f.value.enum = newEnumInfo(vd.Enum())
		}
	}
	if mi.shape != plainShape {
		mi.first, mi.second = mi.field(1), mi.field(2)
		mi.kind = md.Oneofs().ByName("kind")
	}
	return mi
}

func newEnumInfo(ed protoreflect.EnumDescriptor) *enumInfo {
	ei := &enumInfo{null: ed.FullName() == "google.protobuf.NullValue", values: ed.Values()}
	size := 0
	for i := range ei.values.Len() {
		if n := ei.values.Get(i).Number(); n >= 0 && n < maxEnumTable {
			size = max(size, int(n)+1)
		}
	}
	ei.names = make([][]byte, size)
	for n := range ei.names {
		// ByNumber gives the first value of a number, as protojson writes.
		if v := ei.values.ByNumber(protoreflect.EnumNumber(n)); v != nil {
			ei.names[n], _ = appendString(nil, string(v.Name()))
		}
	}
	return ei
}

// messageSet is implemented by the descriptors of proto1 MessageSets.
type messageSet interface{ IsMessageSet() bool }

func shapeOf(md protoreflect.MessageDescriptor) shape {
	if ms, ok := md.(messageSet); ok && ms.IsMessageSet() {
		return handOverShape
	}
	if md.FullName().Parent() != "google.protobuf" {
		return plainShape
	}
	switch md.Name() {
	case "Any":
		return anyShape
	case "Duration":
		return durationShape
	case "Timestamp":
		return timestampShape
	case "BoolValue", "Int32Value", "Int64Value", "UInt32Value", "UInt64Value",
		"FloatValue", "DoubleValue", "StringValue", "BytesValue":
		return wrapperShape
	case "Struct":
		return structShape
	case "ListValue":
		return listShape
	case "Value":
		return valueShape
	case "FieldMask":
		return fieldMaskShape
	}
	return plainShape
}

// field returns the fieldInfo of the field numbered n.
func (mi *messageInfo) field(n protoreflect.FieldNumber) *fieldInfo {
	fd := mi.desc.Fields().ByNumber(n)
	if fd == nil {
		return nil
	}
	return &mi.fields[fd.Index()]
}

// message appends the JSON of m.
func (e *jsonEncoder) message(b []byte, m protoreflect.Message) ([]byte, error) {
	return e.messageOf(b, m, infoOf(m.Descriptor()))
}

func (e *jsonEncoder) messageOf(b []byte, m protoreflect.Message, mi *messageInfo) ([]byte, error) {
	switch mi.shape {
	case plainShape:
		b = append(b, '{')
		b, err := e.plainFields(b, m, mi, true)
		if err != nil {
			return b, err
		}
		return append(b, '}'), nil
	case anyShape:
		return e.anyMessage(b, m, mi)
	case durationShape:
		return appendDuration(b, m, mi)
	case timestampShape:
		return appendTimestamp(b, m, mi)
	case wrapperShape:
		f := mi.first
		return e.singular(b, m.Get(f.fd), &f.value)
	case structShape:
		f := mi.first
		return e.mapValue(b, m.Get(f.fd).Map(), f)
	case listShape:
		f := mi.first
		return e.list(b, m.Get(f.fd).List(), &f.value)
	case valueShape:
		return e.knownValue(b, m, mi)
	case fieldMaskShape:
		return appendFieldMask(b, m, mi)
	}
	return b, errHandOver
}

// fields appends m's populated fields, each preceded by a comma unless it
// is the first, reading them through protoreflect.
func (e *jsonEncoder) fields(b []byte, m protoreflect.Message, mi *messageInfo, first bool) ([]byte, error) {
	if mi.extensible && hasExtension(m) {
		return b, errHandOver
	}
	var err error
	// set holds the member of each oneof that is set, from its first
	// member on.
	var set [maxOneofSlots]protoreflect.FieldNumber
	for i := range mi.fields {
		f := &mi.fields[i]
		var v protoreflect.Value
		if f.presence == oneofMember {
			if f.firstOfOne {
				set[f.slot] = 0
				if fd := m.WhichOneof(f.oneof); fd != nil {
					set[f.slot] = fd.Number()
				}
			}
			if set[f.slot] != f.fd.Number() {
				continue
			}
			v = m.Get(f.fd)
		} else if v = reflectValue(m, f); !v.IsValid() {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, f.name...)
		if b, err = e.fieldValue(b, v, f); err != nil {
			return b, err
		}
	}
	return b, nil
}

// reflectValue is the value of f, a field outside any oneof, in m; the
// invalid Value when f is not populated.
func reflectValue(m protoreflect.Message, f *fieldInfo) protoreflect.Value {
	switch f.presence {
	case nonZero:
		if v := m.Get(f.fd); !isZero(v, f.value.kind) {
			return v
		}
	case validMessage:
		if v := m.Get(f.fd); v.Message().IsValid() {
			return v
		}
	default:
		if m.Has(f.fd) {
			return m.Get(f.fd)
		}
	}
	return protoreflect.Value{}
}

// fieldValue appends the value of field f: a list, a map or one value.
func (e *jsonEncoder) fieldValue(b []byte, v protoreflect.Value, f *fieldInfo) ([]byte, error) {
	switch {
	case f.list:
		return e.list(b, v.List(), &f.value)
	case f.isMap:
		return e.mapValue(b, v.Map(), f)
	}
	return e.singular(b, v, &f.value)
}

// isZero reports whether v, of a field without presence, is its zero
// value, as generated messages tell: -0 is not zero.
func isZero(v protoreflect.Value, kind protoreflect.Kind) bool {
	switch kind {
	case protoreflect.BoolKind:
		return !v.Bool()
	case protoreflect.EnumKind:
		return v.Enum() == 0
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return v.Int() == 0
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return v.Uint() == 0
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return math.Float64bits(v.Float()) == 0
	case protoreflect.StringKind:
		return len(v.String()) == 0
	case protoreflect.BytesKind:
		return len(v.Bytes()) == 0
	}
	return false
}

func hasExtension(m protoreflect.Message) bool {
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		found = fd.IsExtension()
		return !found
	})
	return found
}

// singular appends one value that is not a list or a map.
func (e *jsonEncoder) singular(b []byte, v protoreflect.Value, vi *valueInfo) ([]byte, error) {
	if b, ok, err := appendScalar(b, v, vi); ok {
		return b, err
	}
	switch vi.kind {
	case protoreflect.EnumKind:
		return vi.enum.append(b, v.Enum()), nil
	case protoreflect.MessageKind, protoreflect.GroupKind:
		m := v.Message()
		mi := vi.child.Load()
		if md := m.Descriptor(); mi == nil || mi.desc != md {
			mi = infoOf(md)
			vi.child.Store(mi)
		}
		return e.messageOf(b, m, mi)
	}
	return b, fmt.Errorf("encode %s: unknown kind %v", vi.fd.FullName(), vi.kind)
}

// scalarValue is what protoreflect.Value and reflect.Value both say of a
// bool, number, string or bytes value.
type scalarValue interface {
	Bool() bool
	String() string
	Int() int64
	Uint() uint64
	Float() float64
	Bytes() []byte
}

// appendScalar appends a bool, number, string or bytes value, read through
// protoreflect or from a struct field alike; ok is false for the other
// kinds, which it leaves to the caller.
func appendScalar[V scalarValue](b []byte, v V, vi *valueInfo) (_ []byte, ok bool, _ error) {
	switch vi.kind {
	case protoreflect.BoolKind:
		if v.Bool() {
			return append(b, "true"...), true, nil
		}
		return append(b, "false"...), true, nil
	case protoreflect.StringKind:
		b, err := appendFieldString(b, v.String(), vi)
		return b, true, err
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return strconv.AppendInt(b, v.Int(), 10), true, nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return strconv.AppendUint(b, v.Uint(), 10), true, nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		b = append(b, '"')
		b = strconv.AppendInt(b, v.Int(), 10)
		return append(b, '"'), true, nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		b = append(b, '"')
		b = strconv.AppendUint(b, v.Uint(), 10)
		return append(b, '"'), true, nil
	case protoreflect.FloatKind:
		return appendFloat(b, v.Float(), 32), true, nil
	case protoreflect.DoubleKind:
		return appendFloat(b, v.Float(), 64), true, nil
	case protoreflect.BytesKind:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, v.Bytes())
		return append(b, '"'), true, nil
	}
	return b, false, nil
}

// appendFieldString appends a string value of a field.
func appendFieldString(b []byte, s string, vi *valueInfo) ([]byte, error) {
	b, err := appendString(b, s)
	if err != nil {
		return b, fmt.Errorf("encode %s: %w", vi.fd.FullName(), err)
	}
	return b, nil
}

func (ei *enumInfo) append(b []byte, n protoreflect.EnumNumber) []byte {
	if ei.null {
		return append(b, "null"...)
	}
	if n >= 0 && int(n) < len(ei.names) {
		if name := ei.names[n]; name != nil {
			return append(b, name...)
		}
		return strconv.AppendInt(b, int64(n), 10)
	}
	if v := ei.values.ByNumber(n); v != nil {
		b, _ = appendString(b, string(v.Name()))
		return b
	}
	return strconv.AppendInt(b, int64(n), 10)
}

func (e *jsonEncoder) list(b []byte, l protoreflect.List, vi *valueInfo) ([]byte, error) {
	b = append(b, '[')
	var err error
	for i := range l.Len() {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = e.singular(b, l.Get(i), vi); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

// mapValue appends a map as protojson orders it: false before true,
// numbers ascending, strings by their bytes.
func (e *jsonEncoder) mapValue(b []byte, mp protoreflect.Map, f *fieldInfo) ([]byte, error) {
	start := len(e.entries)
	mp.Range(e.push)
	// Maps written inside this one push onto e.entries past these, and may
	// move it; entries keeps this map's own.
	entries := e.entries[start:]
	b, err := e.sortedEntries(b, entries, f)
	clear(entries)
	e.entries = e.entries[:start]
	return b, err
}

func (e *jsonEncoder) sortedEntries(b []byte, entries []mapEntry, f *fieldInfo) ([]byte, error) {
	switch f.key {
	case protoreflect.BoolKind:
		slices.SortFunc(entries, func(x, y mapEntry) int {
			return cmp.Compare(b2i(x.k.Bool()), b2i(y.k.Bool()))
		})
	case protoreflect.StringKind:
		slices.SortFunc(entries, func(x, y mapEntry) int { return cmp.Compare(x.k.String(), y.k.String()) })
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		slices.SortFunc(entries, func(x, y mapEntry) int { return cmp.Compare(x.k.Uint(), y.k.Uint()) })
	default:
		slices.SortFunc(entries, func(x, y mapEntry) int { return cmp.Compare(x.k.Int(), y.k.Int()) })
	}
	b = append(b, '{')
	var err error
	for i, en := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		switch f.key {
		case protoreflect.StringKind:
			if b, err = appendString(b, en.k.String()); err != nil {
				return b, fmt.Errorf("encode %s key: %w", f.fd.FullName(), err)
			}
		case protoreflect.BoolKind:
			b = strconv.AppendQuote(b, strconv.FormatBool(en.k.Bool()))
		case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
			b = append(b, '"')
			b = strconv.AppendUint(b, en.k.Uint(), 10)
			b = append(b, '"')
		default:
			b = append(b, '"')
			b = strconv.AppendInt(b, en.k.Int(), 10)
			b = append(b, '"')
		}
		b = append(b, ':')
		if b, err = e.singular(b, en.v, &f.value); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}

// anyMessage appends an Any as its message's own JSON with "@type" first,
// or, for a message with a JSON form of its own, {"@type":…,"value":…}.
func (e *jsonEncoder) anyMessage(b []byte, m protoreflect.Message, mi *messageInfo) ([]byte, error) {
	return e.appendAnyOf(b, m.Get(mi.first.fd).String(), m.Get(mi.second.fd).Bytes())
}

// appendAnyOf appends the Any of a type URL and a value.
func (e *jsonEncoder) appendAnyOf(b []byte, url string, value []byte) ([]byte, error) {
	if url == "" {
		if len(value) > 0 {
			return b, errors.New("encode google.protobuf.Any: value without a type_url")
		}
		return append(b, "{}"...), nil
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByURL(url)
	if err != nil {
		return b, fmt.Errorf("resolve %q: %w", url, err)
	}
	em := mt.New()
	opts := proto.UnmarshalOptions{AllowPartial: true, Resolver: protoregistry.GlobalTypes}
	if err := opts.Unmarshal(value, em.Interface()); err != nil {
		return b, fmt.Errorf("unmarshal %q: %w", url, err)
	}
	emi := infoOf(em.Descriptor())
	b = append(b, `{"@type":`...)
	if b, err = appendString(b, url); err != nil {
		return b, fmt.Errorf("encode google.protobuf.Any type_url: %w", err)
	}
	switch emi.shape {
	case handOverShape:
		return b, errHandOver
	case plainShape:
		b, err = e.plainFields(b, em, emi, false)
	default:
		b = append(b, `,"value":`...)
		b, err = e.messageOf(b, em, emi)
	}
	if err != nil {
		return b, err
	}
	return append(b, '}'), nil
}

// The ranges protojson accepts.
const (
	maxNanos           = 999_999_999
	maxDurationSeconds = 315_576_000_000
	minTimestampSecs   = -62_135_596_800 // 0001-01-01T00:00:00Z
	maxTimestampSecs   = 253_402_300_799 // 9999-12-31T23:59:59Z
)

// appendDuration appends a Duration as seconds with 0, 3, 6 or 9 decimals
// and the suffix "s".
func appendDuration(b []byte, m protoreflect.Message, mi *messageInfo) ([]byte, error) {
	return appendDurationOf(b, m.Get(mi.first.fd).Int(), m.Get(mi.second.fd).Int())
}

func appendDurationOf(b []byte, secs, nanos int64) ([]byte, error) {
	switch {
	case secs < -maxDurationSeconds || secs > maxDurationSeconds:
		return b, fmt.Errorf("encode google.protobuf.Duration: seconds out of range %d", secs)
	case nanos < -maxNanos || nanos > maxNanos:
		return b, fmt.Errorf("encode google.protobuf.Duration: nanos out of range %d", nanos)
	case secs > 0 && nanos < 0 || secs < 0 && nanos > 0:
		return b, errors.New("encode google.protobuf.Duration: seconds and nanos of different signs")
	}
	b = append(b, '"')
	if secs < 0 || nanos < 0 {
		b = append(b, '-')
		secs, nanos = -secs, -nanos
	}
	b = strconv.AppendInt(b, secs, 10)
	b = appendNanos(b, nanos)
	return append(b, `s"`...), nil
}

// appendNanos appends a fraction of a second in as few of 0, 3, 6 or 9
// decimals as hold it exactly.
func appendNanos(b []byte, nanos int64) []byte {
	if nanos == 0 {
		return b
	}
	digits := 9
	for range 2 {
		if nanos%1000 != 0 {
			break
		}
		nanos /= 1000
		digits -= 3
	}
	b = append(b, '.')
	var buf [9]byte
	for i := digits - 1; i >= 0; i-- {
		buf[i] = byte('0' + nanos%10)
		nanos /= 10
	}
	return append(b, buf[:digits]...)
}

// appendTimestamp appends a Timestamp in RFC 3339, in UTC, with 0, 3, 6 or
// 9 decimals.
func appendTimestamp(b []byte, m protoreflect.Message, mi *messageInfo) ([]byte, error) {
	return appendTimestampOf(b, m.Get(mi.first.fd).Int(), m.Get(mi.second.fd).Int())
}

func appendTimestampOf(b []byte, secs, nanos int64) ([]byte, error) {
	switch {
	case secs < minTimestampSecs || secs > maxTimestampSecs:
		return b, fmt.Errorf("encode google.protobuf.Timestamp: seconds out of range %d", secs)
	case nanos < 0 || nanos > maxNanos:
		return b, fmt.Errorf("encode google.protobuf.Timestamp: nanos out of range %d", nanos)
	}
	b = append(b, '"')
	b = time.Unix(secs, 0).UTC().AppendFormat(b, "2006-01-02T15:04:05")
	b = appendNanos(b, nanos)
	return append(b, `Z"`...), nil
}

// knownValue appends a google.protobuf.Value as the JSON value it holds.
func (e *jsonEncoder) knownValue(b []byte, m protoreflect.Message, mi *messageInfo) ([]byte, error) {
	fd := m.WhichOneof(mi.kind)
	if fd == nil {
		return b, errors.New("encode google.protobuf.Value: no kind set")
	}
	v := m.Get(fd)
	if fd.Kind() == protoreflect.DoubleKind {
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return b, fmt.Errorf("encode google.protobuf.Value: invalid number %v", f)
		}
	}
	return e.singular(b, v, &mi.fields[fd.Index()].value)
}

// appendFieldMask appends a FieldMask as its paths in lowerCamelCase,
// joined by commas. A path that is not a name, or that camel case would not
// give back, is an error.
func appendFieldMask(b []byte, m protoreflect.Message, mi *messageInfo) ([]byte, error) {
	paths := m.Get(mi.first.fd).List()
	b = append(b, '"')
	for i := range paths.Len() {
		p := paths.Get(i).String()
		if !protoreflect.FullName(p).IsValid() {
			return b, fmt.Errorf("encode google.protobuf.FieldMask: invalid path %q", p)
		}
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = appendCamelPath(b, p); !ok {
			return b, fmt.Errorf("encode google.protobuf.FieldMask: path %q does not survive camel case", p)
		}
	}
	return append(b, '"'), nil
}

// appendCamelPath appends a snake_case path in lowerCamelCase (every '_'
// dropped, a lower-case letter after one upper-cased), and reports whether
// turning the result back into snake case (every upper-case letter made
// '_' and its lower case) gives p again.
func appendCamelPath(b []byte, p string) ([]byte, bool) {
	start := len(b)
	after := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != '_' {
			if after && 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			b = append(b, c)
		}
		after = p[i] == '_'
	}
	// Snake case of the camel: compare as it would be written.
	j := 0
	for _, c := range b[start:] {
		if 'A' <= c && c <= 'Z' {
			if j+1 >= len(p) || p[j] != '_' || p[j+1] != c+('a'-'A') {
				return b, false
			}
			j += 2
			continue
		}
		if j >= len(p) || p[j] != c {
			return b, false
		}
		j++
	}
	return b, j == len(p)
}

// appendFloat appends a float as protojson writes it: NaN and the
// infinities as strings, magnitudes below 1e-6 or from 1e21 in exponent
// form with at least one exponent digit, everything else in the shortest
// decimal form that reads back as the same float of its size.
func appendFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 {
		small, large := a < 1e-6, a >= 1e21
		if bits == 32 {
			small, large = float32(a) < 1e-6, float32(a) >= 1e21
		}
		if small || large {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	// strconv writes two exponent digits at least; "e-07" becomes "e-7".
	if n := len(b); format == 'e' && n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1]
		b = b[:n-1]
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string as protojson escapes it: '"',
// '\\' and the control characters below U+0020 only (\b \f \n \r \t by
// name, the rest as \u00xx); everything else, U+2028, U+2029, '<', '>' and
// '&' included, as it is. Invalid UTF-8 is an error.
func appendString(b []byte, s string) ([]byte, error) {
	b = append(b, '"')
	from := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				return b, errInvalidUTF8
			}
			i += n
			continue
		}
		if c >= ' ' && c != '"' && c != '\\' {
			i++
			continue
		}
		b = append(b, s[from:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		from = i
	}
	b = append(b, s[from:]...)
	return append(b, '"'), nil
}
