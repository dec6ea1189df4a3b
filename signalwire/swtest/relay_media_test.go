package swtest

import (
	"strings"
	"testing"
)

func TestAudioFirstUndoesTheSDKsMediaOrderHack(t *testing.T) {
	sdp := func(lines ...string) string { return strings.Join(lines, "\r\n") + "\r\n" }
	videoFirstOffer := sdp("v=0", "m=video 9 X 96", "a=mid:0", "a=sendonly", "m=audio 9 X 111", "a=mid:1", "a=sendonly")
	audioFirstOffer := sdp("v=0", "m=audio 9 X 111", "a=mid:0", "m=video 9 X 96", "a=mid:1")
	pionAnswer := sdp("v=0", "a=group:BUNDLE 0 1", "m=video 9 X 96", "a=mid:0", "a=recvonly", "m=audio 9 X 111", "a=mid:1", "a=recvonly")
	want := sdp("v=0", "a=group:BUNDLE 0 1", "m=audio 9 X 111", "a=mid:1", "a=recvonly", "m=video 9 X 96", "a=mid:0", "a=recvonly")
	if got := audioFirst(videoFirstOffer, pionAnswer); got != want {
		t.Errorf("video-first offer:\ngot  %q\nwant %q", got, want)
	}
	// What the SDK's sdpMediaOrderHack then makes of it: the offer's order.
	if got := mediaOrderHack(audioFirst(videoFirstOffer, pionAnswer), videoFirstOffer); got != pionAnswer {
		t.Errorf("after the SDK's hack:\ngot  %q\nwant %q", got, pionAnswer)
	}
	inOrder := sdp("v=0", "m=audio 9 X 111", "a=mid:0", "m=video 9 X 96", "a=mid:1")
	if got := audioFirst(audioFirstOffer, inOrder); got != inOrder {
		t.Errorf("audio-first offer: the answer changed: %q", got)
	}
	videoOnly := sdp("v=0", "m=video 9 X 96", "a=mid:0")
	if got := audioFirst(videoOnly, videoOnly); got != videoOnly {
		t.Errorf("video only: the answer changed: %q", got)
	}
}

// mediaOrderHack restates the SDK's sdpMediaOrderHack (webrtc/src/utils/
// sdpHelpers.ts) for the test: with a video-first offer it moves the
// answer's audio lines after its video lines.
func mediaOrderHack(answer, offer string) string {
	isAudio := func(l string) bool { return strings.HasPrefix(l, "m=audio") }
	isVideo := func(l string) bool { return strings.HasPrefix(l, "m=video") }
	index := func(ls []string, f func(string) bool) int {
		for i, l := range ls {
			if f(l) {
				return i
			}
		}
		return -1
	}
	o := strings.Split(offer, "\r\n")
	oa, ov := index(o, isAudio), index(o, isVideo)
	if ov == -1 || oa == -1 || oa < ov {
		return answer
	}
	a := strings.Split(answer, "\r\n")
	aa, av := index(a, isAudio), index(a, isVideo)
	out := append(append(append([]string{}, a[:aa]...), a[av:len(a)-1]...), a[aa:av]...)
	return strings.Join(append(out, ""), "\r\n")
}
