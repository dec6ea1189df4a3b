package main

import (
	"strings"
	"testing"
)

// The lobby (issue 16) in separate browsers with the real SDK: a guest
// knocks and waits, and no SignalWire token exists for them until a host
// lets them in; then their page joins with no click. Denied guests are
// told so; a guest who closes the page leaves the lobby; with no host in
// the call guests are told the host has not started; with the lobby off
// guests join directly.

func TestE2ELobbyKnockAdmitAndDeny(t *testing.T) {
	t.Parallel()
	app, _ := startPushApp(t)
	host := participant(t)
	hostLobbyRoom(t, host, app, "Lobby_Door", "Hana")
	joinCall(t, host)
	invite := host.Attr(`[data-testid="invite-link"]`, "href")

	gina := knock(t, invite, "Gina")
	gina.SetTimeout(pushWait)
	host.SetTimeout(pushWait)
	gina.WaitVisible(`[data-testid="lobby-status"]`) // a host is here: "will let you in soon"
	if got := gina.Text(`[data-testid="lobby-name"]`); got != "Gina" {
		t.Errorf("name on the waiting page: got %q, want %q", got, "Gina")
	}
	gina.AxeSerious("the lobby's waiting page")
	// The host is told, visibly and in the live region.
	host.WaitVisible(`[data-testid="knock-notice"]`)
	waitAnnounced(t, host, "Gina is waiting in the lobby.")
	if n := tokensFor(app, "Gina"); n != 0 {
		t.Fatalf("SignalWire issued %d tokens for Gina while she waited, want 0", n)
	}

	decide(t, host, "Gina", "admit")
	gina.SetTimeout(waitFor) // the join itself
	gina.WaitVisible(`[data-testid="call"]`)
	gina.WaitVisible(`[data-testid="member"][data-self="true"]`)
	waitMember(t, host, "Gina")
	if n := tokensFor(app, "Gina"); n != 1 {
		t.Errorf("tokens for Gina once admitted: got %d, want 1", n)
	}
	if gina.Count(`[data-testid="lobby-waiting"]`) != 0 {
		t.Error("the waiting room still shows on the page of an admitted guest")
	}

	dan := knock(t, invite, "Dan")
	dan.SetTimeout(pushWait)
	decide(t, host, "Dan", "deny")
	dan.WaitVisible(`[data-testid="lobby-denied"]`)
	if !strings.Contains(dan.Text(`[data-testid="lobby-denied"]`), "not let you in") {
		t.Errorf("denied text: %q", dan.Text(`[data-testid="lobby-denied"]`))
	}
	if n := tokensFor(app, "Dan"); n != 0 {
		t.Errorf("tokens for a denied guest: got %d, want 0", n)
	}
	if dan.Count(`[data-testid="call"]:not([hidden])`) != 0 {
		t.Error("the call shows on a denied guest's page")
	}
}

func TestE2ELobbyNoHostClosingAndOff(t *testing.T) {
	t.Parallel()
	app, _ := startPushApp(t)
	host := participant(t)
	hostLobbyRoom(t, host, app, "Lobby_Early", "Hana")
	invite := host.Attr(`[data-testid="invite-link"]`, "href")

	// The host has not joined yet: the guest is told so, and waits.
	nora := knock(t, invite, "Nora")
	nora.SetTimeout(pushWait)
	nora.WaitVisible(`[data-testid="lobby-no-host"]`)
	joinCall(t, host)
	host.SetTimeout(pushWait)
	nora.WaitVisible(`[data-testid="lobby-status"]`) // the host arrived
	openTab(t, host, "lobby")
	host.WaitJS(lobbyRow("Nora") + ` !== undefined`)
	host.AxeSerious("the host's lobby tab with a guest waiting")

	// Nora closes her page: she leaves the lobby within the heartbeat and
	// the grace (seconds here; 25 s at most with the defaults).
	nora.Navigate("about:blank")
	host.WaitVisible(`[data-testid="lobby-empty"]`)

	// Lobby off: the next guest joins directly.
	settled(t, host)
	host.Click(`[data-action="lobby-off"]`)
	host.WaitVisible(`[data-action="lobby-on"]`)
	openGuest(t, invite, "Olga")
	waitMember(t, host, "Olga")
	if n := tokensFor(app, "Nora"); n != 0 {
		t.Errorf("tokens for Nora, who never got in: got %d, want 0", n)
	}
}
