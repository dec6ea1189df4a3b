package signalwire

// Permission is one capability a room token grants in a room session, as
// the REST API spells it in POST /room_tokens. Which role gets which
// permissions is product policy and lives with the handlers, not here.
type Permission string

// The 44 permissions the REST API accepts. Older SDK comments mention
// video.* names, which the REST API rejects; these come from its spec.
const (
	// What a member may do to themselves.
	PermSelfAudioMute           Permission = "room.self.audio_mute"
	PermSelfAudioUnmute         Permission = "room.self.audio_unmute"
	PermSelfVideoMute           Permission = "room.self.video_mute"
	PermSelfVideoUnmute         Permission = "room.self.video_unmute"
	PermSelfDeaf                Permission = "room.self.deaf"
	PermSelfUndeaf              Permission = "room.self.undeaf"
	PermSelfSetInputVolume      Permission = "room.self.set_input_volume"
	PermSelfSetOutputVolume     Permission = "room.self.set_output_volume"
	PermSelfSetInputSensitivity Permission = "room.self.set_input_sensitivity"
	PermSelfSetPosition         Permission = "room.self.set_position"
	PermSelfSetMeta             Permission = "room.self.set_meta"
	PermSelfRaiseHand           Permission = "room.self.raisehand"
	PermSelfLowerHand           Permission = "room.self.lowerhand"
	PermSelfScreenShare         Permission = "room.self.screenshare"
	PermSelfAdditionalSource    Permission = "room.self.additional_source"

	// What a member may do to other members (moderation).
	PermMemberAudioMute           Permission = "room.member.audio_mute"
	PermMemberAudioUnmute         Permission = "room.member.audio_unmute"
	PermMemberVideoMute           Permission = "room.member.video_mute"
	PermMemberVideoUnmute         Permission = "room.member.video_unmute"
	PermMemberDeaf                Permission = "room.member.deaf"
	PermMemberUndeaf              Permission = "room.member.undeaf"
	PermMemberSetInputVolume      Permission = "room.member.set_input_volume"
	PermMemberSetOutputVolume     Permission = "room.member.set_output_volume"
	PermMemberSetInputSensitivity Permission = "room.member.set_input_sensitivity"
	PermMemberSetPosition         Permission = "room.member.set_position"
	PermMemberSetMeta             Permission = "room.member.set_meta"
	PermMemberRaiseHand           Permission = "room.member.raisehand"
	PermMemberLowerHand           Permission = "room.member.lowerhand"
	PermMemberRemove              Permission = "room.member.remove"
	PermMemberPromote             Permission = "room.member.promote"
	PermMemberDemote              Permission = "room.member.demote"

	// What a member may do to the room.
	PermRoomHideVideoMuted       Permission = "room.hide_video_muted"
	PermRoomShowVideoMuted       Permission = "room.show_video_muted"
	PermRoomListAvailableLayouts Permission = "room.list_available_layouts"
	PermRoomSetLayout            Permission = "room.set_layout"
	PermRoomSetPosition          Permission = "room.set_position"
	PermRoomSetMeta              Permission = "room.set_meta"
	PermRoomLock                 Permission = "room.lock"
	PermRoomUnlock               Permission = "room.unlock"
	PermRoomPlayback             Permission = "room.playback"
	PermRoomPlaybackSeek         Permission = "room.playback_seek"
	PermRoomPrioritizeHandraise  Permission = "room.prioritize_handraise"
	PermRoomRecording            Permission = "room.recording"
	PermRoomStream               Permission = "room.stream"
)

// AllPermissions returns every valid permission, in the order of the API
// spec (self, member, room). The slice is new on every call.
func AllPermissions() []Permission {
	return []Permission{
		PermSelfAudioMute, PermSelfAudioUnmute, PermSelfVideoMute, PermSelfVideoUnmute,
		PermSelfDeaf, PermSelfUndeaf, PermSelfSetInputVolume, PermSelfSetOutputVolume,
		PermSelfSetInputSensitivity, PermSelfSetPosition, PermSelfSetMeta,
		PermSelfRaiseHand, PermSelfLowerHand, PermSelfScreenShare, PermSelfAdditionalSource,

		PermMemberAudioMute, PermMemberAudioUnmute, PermMemberVideoMute, PermMemberVideoUnmute,
		PermMemberDeaf, PermMemberUndeaf, PermMemberSetInputVolume, PermMemberSetOutputVolume,
		PermMemberSetInputSensitivity, PermMemberSetPosition, PermMemberSetMeta,
		PermMemberRaiseHand, PermMemberLowerHand, PermMemberRemove, PermMemberPromote, PermMemberDemote,

		PermRoomHideVideoMuted, PermRoomShowVideoMuted, PermRoomListAvailableLayouts,
		PermRoomSetLayout, PermRoomSetPosition, PermRoomSetMeta, PermRoomLock, PermRoomUnlock,
		PermRoomPlayback, PermRoomPlaybackSeek, PermRoomPrioritizeHandraise,
		PermRoomRecording, PermRoomStream,
	}
}

// Valid reports whether p is one of the permissions the REST API accepts;
// a token request with any other string is rejected with a 422.
func (p Permission) Valid() bool {
	switch p {
	case PermSelfAudioMute, PermSelfAudioUnmute, PermSelfVideoMute, PermSelfVideoUnmute,
		PermSelfDeaf, PermSelfUndeaf, PermSelfSetInputVolume, PermSelfSetOutputVolume,
		PermSelfSetInputSensitivity, PermSelfSetPosition, PermSelfSetMeta,
		PermSelfRaiseHand, PermSelfLowerHand, PermSelfScreenShare, PermSelfAdditionalSource,
		PermMemberAudioMute, PermMemberAudioUnmute, PermMemberVideoMute, PermMemberVideoUnmute,
		PermMemberDeaf, PermMemberUndeaf, PermMemberSetInputVolume, PermMemberSetOutputVolume,
		PermMemberSetInputSensitivity, PermMemberSetPosition, PermMemberSetMeta,
		PermMemberRaiseHand, PermMemberLowerHand, PermMemberRemove, PermMemberPromote, PermMemberDemote,
		PermRoomHideVideoMuted, PermRoomShowVideoMuted, PermRoomListAvailableLayouts,
		PermRoomSetLayout, PermRoomSetPosition, PermRoomSetMeta, PermRoomLock, PermRoomUnlock,
		PermRoomPlayback, PermRoomPlaybackSeek, PermRoomPrioritizeHandraise,
		PermRoomRecording, PermRoomStream:
		return true
	}
	return false
}
