package swtest

// The VP8 payload descriptor (RFC 7741 section 4.2), the few bytes before
// each packet's VP8 data:
//
//	 0 1 2 3 4 5 6 7
//	|X|R|N|S|R| PID |  always
//	|I|L|T|K| RSV   |  if X
//	|M| PictureID   |  if I (M: 15 bits, one more byte)
//	|  PictureID    |
//	|   TL0PICIDX   |  if L
//	|TID|Y| KEYIDX  |  if T or K
//
// The forwarder reads it to find key frames and rewrites the picture id.

// vp8Desc is a parsed descriptor.
type vp8Desc struct {
	size   int    // bytes of the descriptor
	ext    byte   // the I L T K octet; 0 without X
	tail   []byte // the TL0PICIDX and TID/KEYIDX octets, as they were
	pic    uint16 // picture id, when hasPic
	hasPic bool
	start  bool // S set and partition 0: the first packet of a frame
	key    bool // ... of a key frame
}

// parseVP8 reads the descriptor of a packet's payload; ok is false when
// the payload is too short for what it declares.
func parseVP8(p []byte) (d vp8Desc, ok bool) {
	if len(p) < 1 {
		return d, false
	}
	i := 1
	if p[0]&0x80 != 0 { // X
		if len(p) < 2 {
			return d, false
		}
		d.ext = p[1]
		i = 2
		if d.ext&0x80 != 0 { // I
			if len(p) < i+1 {
				return d, false
			}
			d.hasPic = true
			if p[i]&0x80 != 0 { // M: 15 bits
				if len(p) < i+2 {
					return d, false
				}
				d.pic = uint16(p[i]&0x7f)<<8 | uint16(p[i+1])
				i += 2
			} else {
				d.pic = uint16(p[i])
				i++
			}
		}
		j := i
		if d.ext&0x40 != 0 { // L
			i++
		}
		if d.ext&0x30 != 0 { // T or K
			i++
		}
		if len(p) < i {
			return d, false
		}
		d.tail = p[j:i]
	}
	d.size = i
	d.start = p[0]&0x10 != 0 && p[0]&0x07 == 0
	// The first byte of a frame's VP8 data: bit 0 clear for a key frame
	// (RFC 6386 9.1).
	d.key = d.start && len(p) > i && p[i]&0x01 == 0
	return d, true
}

// withPictureID returns the payload p (whose descriptor is d) with a
// 15-bit picture id pic, in a new slice: X and I set, the other fields
// kept.
func (d vp8Desc) withPictureID(p []byte, pic uint16) []byte {
	out := make([]byte, 0, 4+len(d.tail)+len(p)-d.size)
	out = append(out, p[0]|0x80, d.ext|0x80, 0x80|byte(pic>>8&0x7f), byte(pic))
	out = append(out, d.tail...)
	return append(out, p[d.size:]...)
}
