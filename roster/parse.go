package roster

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"
)

// parser is a strict, allocation-light reader of the JSON the wire format
// uses. It exists because encoding/json cannot be strict enough without
// costing more than the rest of the event path: it takes null for any
// pointer, keeps the last of two equal keys, matches keys
// case-insensitively (so "handRaised" passes as "handraised") and needs a
// Decoder per object to refuse unknown keys. The parser refuses all of
// these, reads each byte once, and allocates only the strings it keeps.
//
// Offsets in its errors are byte offsets into the whole body.
type parser struct {
	buf []byte
	pos int
}

// at names a place in the batch for error messages, such as
// data.members[3].name. It is a value, formatted only when there is an
// error, so that naming places costs nothing on the hot path.
type at struct {
	obj string // the object or array, e.g. "data.member"; "" for the batch
	idx int    // the element of array obj, or -1
	key string // the key in it, or ""
}

func (a at) String() string {
	s := a.obj
	if a.idx >= 0 {
		s += "[" + strconv.Itoa(a.idx) + "]"
	}
	switch {
	case s == "":
		return a.key
	case a.key != "":
		return s + "." + a.key
	}
	return s
}

// key is the place of key in the object a names.
func (a at) k(key string) at {
	if a.key != "" {
		a.obj, a.idx = a.String(), -1
	}
	a.key = key
	return a
}

// maxSkipDepth bounds the nesting of the data of unknown events, which the
// parser skips without reading, so that a body of brackets cannot recurse
// deeply.
const maxSkipDepth = 64

// errSyntax is a body that is not JSON; syntaxError gives its place.
var errSyntax = errors.New("invalid JSON")

func (p *parser) syntaxError() error {
	return fmt.Errorf("%w near byte %d", errSyntax, p.pos)
}

// typeError says that the value at path is not the JSON type want.
func (p *parser) typeError(path at, want string) error {
	got := "invalid JSON"
	switch p.peek() {
	case '"':
		got = "a string"
	case 't', 'f':
		got = "a boolean"
	case 'n':
		got = "null"
	case '{':
		got = "an object"
	case '[':
		got = "an array"
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		got = "a number"
	}
	return fmt.Errorf("%v must be %s, not %s", path, want, got)
}

func (p *parser) ws() {
	for p.pos < len(p.buf) {
		switch p.buf[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the next byte, 0 at the end.
func (p *parser) peek() byte {
	p.ws()
	if p.pos < len(p.buf) {
		return p.buf[p.pos]
	}
	return 0
}

// end reports an error unless only whitespace is left.
func (p *parser) end() error {
	if p.peek() != 0 {
		return p.syntaxError()
	}
	return nil
}

// object reads an object at path whose keys may be those in keys (at most
// 32), calling field with the index of each key found; field must read the
// value. It returns the set of keys found, bit i for keys[i]. An unknown key
// is an error, and so is a key that appears twice: JSON leaves its meaning
// open, and a strict reader should not pick one.
func (p *parser) object(path at, keys []string, field func(i int) error) (seen uint32, err error) {
	if p.peek() != '{' {
		return 0, p.typeError(path, "an object")
	}
	p.pos++
	if p.peek() == '}' {
		p.pos++
		return 0, nil
	}
	for {
		if p.peek() != '"' {
			return 0, p.syntaxError()
		}
		key, err := p.key()
		if err != nil {
			return 0, err
		}
		i := slices.Index(keys, string(key))
		switch {
		case i < 0:
			return 0, fmt.Errorf("%v has the unknown key %q", path, key)
		case seen&(1<<i) != 0:
			return 0, fmt.Errorf("%v has the key %q twice", path, key)
		}
		seen |= 1 << i
		if p.peek() != ':' {
			return 0, p.syntaxError()
		}
		p.pos++
		if err := field(i); err != nil {
			return 0, err
		}
		switch p.peek() {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return seen, nil
		default:
			return 0, p.syntaxError()
		}
	}
}

// array reads an array at path, calling elem for each element with its
// index; elem must read the value.
func (p *parser) array(path at, elem func(i int) error) error {
	if p.peek() != '[' {
		return p.typeError(path, "an array")
	}
	p.pos++
	if p.peek() == ']' {
		p.pos++
		return nil
	}
	for i := 0; ; i++ {
		if err := elem(i); err != nil {
			return err
		}
		switch p.peek() {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return nil
		default:
			return p.syntaxError()
		}
	}
}

// key reads an object key. Keys with escapes are decoded (and then match
// no wire key unless they spell one).
func (p *parser) key() ([]byte, error) {
	start := p.pos
	raw, escaped, err := p.rawString()
	if err != nil {
		return nil, err
	}
	if !escaped {
		return raw, nil
	}
	s, err := unescape(p.buf[start:p.pos])
	return []byte(s), err
}

// str reads a string at path; the result does not alias the body.
func (p *parser) str(path at) (string, error) {
	if p.peek() != '"' {
		return "", p.typeError(path, "a string")
	}
	start := p.pos
	raw, escaped, err := p.rawString()
	if err != nil {
		return "", err
	}
	if escaped {
		return unescape(p.buf[start:p.pos])
	}
	if !utf8.Valid(raw) {
		return "", fmt.Errorf("%v is not valid UTF-8", path)
	}
	return string(raw), nil
}

// unescape decodes a quoted JSON string with escapes; rare on the wire, so
// it leaves the work to encoding/json.
func unescape(quoted []byte) (string, error) {
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return "", errSyntax
	}
	return s, nil
}

// rawString reads a string and returns its bytes between the quotes,
// whether they hold escapes, and a syntax error for control characters or
// an unterminated string.
func (p *parser) rawString() (raw []byte, escaped bool, err error) {
	p.pos++ // the opening quote, checked by the caller
	start := p.pos
	for p.pos < len(p.buf) {
		switch c := p.buf[p.pos]; {
		case c == '"':
			raw = p.buf[start:p.pos]
			p.pos++
			return raw, escaped, nil
		case c == '\\':
			escaped = true
			p.pos += 2
		case c < 0x20:
			return nil, false, p.syntaxError()
		default:
			p.pos++
		}
	}
	return nil, false, p.syntaxError()
}

// boolean reads true or false at path.
func (p *parser) boolean(path at) (bool, error) {
	switch p.peek() {
	case 't':
		return true, p.literal("true")
	case 'f':
		return false, p.literal("false")
	}
	return false, p.typeError(path, "a boolean")
}

func (p *parser) literal(lit string) error {
	if len(p.buf)-p.pos < len(lit) || string(p.buf[p.pos:p.pos+len(lit)]) != lit {
		return p.syntaxError()
	}
	p.pos += len(lit)
	return nil
}

// seq reads a positive integer at path: no sign, fraction or exponent.
func (p *parser) seq(path at) (uint64, error) {
	c := p.peek()
	if c < '0' || c > '9' {
		return 0, p.typeError(path, "a positive integer")
	}
	start := p.pos
	for p.pos < len(p.buf) && p.buf[p.pos] >= '0' && p.buf[p.pos] <= '9' {
		p.pos++
	}
	if p.pos < len(p.buf) {
		switch p.buf[p.pos] {
		case '.', 'e', 'E':
			return 0, fmt.Errorf("%v must be a positive integer, not a fraction", path)
		}
	}
	digits := p.buf[start:p.pos]
	if len(digits) > 1 && digits[0] == '0' {
		p.pos = start
		return 0, p.syntaxError()
	}
	n, err := strconv.ParseUint(string(digits), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%v is too large", path)
	}
	if n == 0 {
		return 0, fmt.Errorf("%v must be at least 1", path)
	}
	return n, nil
}

// skip reads any JSON value without keeping it.
func (p *parser) skip(depth int) error {
	if depth > maxSkipDepth {
		return fmt.Errorf("data is nested more than %d levels deep", maxSkipDepth)
	}
	switch c := p.peek(); {
	case c == '{':
		p.pos++
		if p.peek() == '}' {
			p.pos++
			return nil
		}
		for {
			if p.peek() != '"' {
				return p.syntaxError()
			}
			if _, _, err := p.rawString(); err != nil {
				return err
			}
			if p.peek() != ':' {
				return p.syntaxError()
			}
			p.pos++
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			switch p.peek() {
			case ',':
				p.pos++
			case '}':
				p.pos++
				return nil
			default:
				return p.syntaxError()
			}
		}
	case c == '[':
		p.pos++
		if p.peek() == ']' {
			p.pos++
			return nil
		}
		for {
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			switch p.peek() {
			case ',':
				p.pos++
			case ']':
				p.pos++
				return nil
			default:
				return p.syntaxError()
			}
		}
	case c == '"':
		raw, _, err := p.rawString()
		if err == nil && !utf8.Valid(raw) {
			return errors.New("data holds a string that is not valid UTF-8")
		}
		return err
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return p.syntaxError()
}

// number reads a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *parser) number() error {
	if p.buf[p.pos] == '-' {
		p.pos++
	}
	switch {
	case p.pos < len(p.buf) && p.buf[p.pos] == '0':
		p.pos++
	case p.digits() == 0:
		return p.syntaxError()
	}
	if p.pos < len(p.buf) && p.buf[p.pos] == '.' {
		p.pos++
		if p.digits() == 0 {
			return p.syntaxError()
		}
	}
	if p.pos < len(p.buf) && (p.buf[p.pos] == 'e' || p.buf[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.buf) && (p.buf[p.pos] == '+' || p.buf[p.pos] == '-') {
			p.pos++
		}
		if p.digits() == 0 {
			return p.syntaxError()
		}
	}
	return nil
}

func (p *parser) digits() int {
	start := p.pos
	for p.pos < len(p.buf) && p.buf[p.pos] >= '0' && p.buf[p.pos] <= '9' {
		p.pos++
	}
	return p.pos - start
}
