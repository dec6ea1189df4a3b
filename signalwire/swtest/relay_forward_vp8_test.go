package swtest

import (
	"bytes"
	"testing"
)

func TestVP8DescriptorParsesAndRewrites(t *testing.T) {
	for _, tc := range []struct {
		name          string
		payload       []byte
		pic           uint16
		hasPic, start bool
		key           bool
		wantRewritten []byte // with picture id 0x1234
	}{
		{"no extension: a key frame start", []byte{0x10, 0x00, 'k'}, 0, false, true, true,
			[]byte{0x90, 0x80, 0x92, 0x34, 0x00, 'k'}},
		{"7-bit picture id, delta frame", []byte{0x90, 0x80, 0x05, 0x01, 'd'}, 5, true, true, false,
			[]byte{0x90, 0x80, 0x92, 0x34, 0x01, 'd'}},
		{"15-bit picture id, key frame (Chrome)", []byte{0x90, 0x80, 0x81, 0x02, 0x00, 'k'}, 0x102, true, true, true,
			[]byte{0x90, 0x80, 0x92, 0x34, 0x00, 'k'}},
		{"continuation packet", []byte{0x80, 0x80, 0x81, 0x02, 0x00, 'c'}, 0x102, true, false, false,
			[]byte{0x80, 0x80, 0x92, 0x34, 0x00, 'c'}},
		{"TL0PICIDX and TID kept", []byte{0x90, 0xe0, 0x81, 0x02, 0x07, 0x40, 0x00, 'k'}, 0x102, true, true, true,
			[]byte{0x90, 0xe0, 0x92, 0x34, 0x07, 0x40, 0x00, 'k'}},
		{"not partition 0: no frame start", []byte{0x11, 0x00, 'p'}, 0, false, false, false,
			[]byte{0x91, 0x80, 0x92, 0x34, 0x00, 'p'}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, ok := parseVP8(tc.payload)
			if !ok {
				t.Fatal("parse failed")
			}
			if d.pic != tc.pic || d.hasPic != tc.hasPic || d.start != tc.start || d.key != tc.key {
				t.Errorf("got pic %#x/%v start %v key %v, want %#x/%v %v %v", d.pic, d.hasPic, d.start, d.key, tc.pic, tc.hasPic, tc.start, tc.key)
			}
			if got := d.withPictureID(tc.payload, 0x1234); !bytes.Equal(got, tc.wantRewritten) {
				t.Errorf("rewritten: got % x, want % x", got, tc.wantRewritten)
			}
		})
	}
	for _, short := range [][]byte{{}, {0x80}, {0x80, 0x80}, {0x80, 0x80, 0x80}, {0x80, 0x40}} {
		if _, ok := parseVP8(short); ok {
			t.Errorf("% x: parsed a truncated descriptor", short)
		}
	}
}

func TestSinkPictureIDsContinueAcrossSources(t *testing.T) {
	s := newSink(kindVideo)
	frame := func(pic uint16, hasPic bool) uint16 {
		d := vp8Desc{pic: pic, hasPic: hasPic, start: true}
		return s.pictureID(d)
	}
	// A switch rebases (write sets inHadPic to force it).
	s.inHadPic = true
	if got := frame(0, false); got != 1 {
		t.Fatalf("first frame without an id: got %d, want 1", got)
	}
	// The bots' payloader starts carrying ids: the output goes on by one.
	if got := frame(1, true); got != 2 {
		t.Errorf("first frame with an id: got %d, want 2", got)
	}
	// A frame lost upstream shows as a gap.
	if got := frame(3, true); got != 4 {
		t.Errorf("after a lost frame: got %d, want 4", got)
	}
	// A new source with ids far away, on a switch.
	s.inHadPic = false
	if got := frame(30000, true); got != 5 {
		t.Errorf("after a switch: got %d, want 5", got)
	}
	if got := frame(32767, true); got != 5+2767 {
		t.Errorf("got %d", got)
	}
	if got := frame(0, true); got != 5+2768 {
		t.Errorf("15-bit wrap of the input: got %d, want %d", got, 5+2768)
	}
}
