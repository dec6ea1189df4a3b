// @ts-check
// Misuses of the SDK that tsc must reject. public/typecheck_test.go runs tsc
// on this folder and expects one error per line marked "want".
const roomSession = new SignalWire.Video.RoomSession({ token: 'x', rootElement: document.body });
roomSession.muteEveryone(); // want: the RoomSession has no such method
roomSession.on('member.mutedd', () => {}); // want: no such event
roomSession.audioMute({ member: 'x' }); // want: the parameter is memberId
