// @ts-check
// Misuses of the island's own subscription helper that tsc must reject:
// public/typecheck_test.go runs tsc on this file and expects one error per
// line marked "want", so that the helper stays typed by the SDK's event map.
import { subscriber } from '../../js/sdk.js';

const rs = new SignalWire.Video.RoomSession({ token: 'x', rootElement: document.body });
const on = subscriber(rs, () => true);
on('member.updated', (p) => p.member.handraised); // fine: a typed name and field
on('member.updated.handraised', () => {}); // want: the Video SDK has no such event
on('memberList.updatedd', () => {}); // want: misspelled
on('member.talking', (p) => p.member.talkin); // want: no such payload field
on('room.joined', (p) => p.room_session.layoutName); // want: the payload is snake_case
