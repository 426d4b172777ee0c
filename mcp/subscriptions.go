package mcp

import (
	"context"
	"errors"
	"fmt"
	"sync"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/ctxfs/ctxfs/fs"
)

// subscription is one session's interest in one file.
type subscription struct {
	session server.ClientSession
	id      string // session id (legacy resources/subscribe sessions)
	uri     string
	path    fs.Path
}

// subscriptions tracks resource subscriptions and feeds them from the
// file system's change log.
//
// mcp-go's sessions do not record subscriptions themselves, so hooks do:
// resources/subscribe (protocol versions up to 2025-11-25) and
// subscriptions/listen (2026-07-28) add entries, unsubscribe, the end of a
// listen stream and the end of a session remove them. Access is checked
// when a subscription is made (OnRequestInitialization refuses a URI its
// principal may not read), and updates carry only the URI.
//
// Concurrency: safe for concurrent use.
type subscriptions struct {
	srv *Server

	// mu guards list and the watcher's state.
	mu       sync.Mutex
	list     []*subscription
	watching bool
	cancel   context.CancelFunc
	done     chan struct{}
}

func newSubscriptions(s *Server) *subscriptions { return &subscriptions{srv: s} }

func (ss *subscriptions) hook(h *server.Hooks) {
	h.AddOnRequestInitialization(ss.check)
	h.AddAfterSubscribe(func(ctx context.Context, _ any, req *mcpgo.SubscribeRequest, _ *mcpgo.EmptyResult) {
		ss.add(ctx, []string{req.Params.URI}, true)
	})
	h.AddBeforeSubscriptionsListen(func(ctx context.Context, _ any, req *mcpgo.SubscriptionsListenRequest) {
		ss.add(ctx, req.Params.Notifications.ResourceSubscriptions, false)
	})
	h.AddAfterSubscriptionsListen(func(ctx context.Context, _ any, _ *mcpgo.SubscriptionsListenRequest, _ *mcpgo.SubscriptionsListenResult) {
		ss.dropSession(server.ClientSessionFromContext(ctx), "")
	})
	h.AddAfterUnsubscribe(func(ctx context.Context, _ any, req *mcpgo.UnsubscribeRequest, _ *mcpgo.EmptyResult) {
		ss.remove(server.ClientSessionFromContext(ctx), req.Params.URI)
	})
	h.AddOnUnregisterSession(func(_ context.Context, cs server.ClientSession) {
		ss.dropSession(nil, cs.SessionID())
	})
}

// check refuses a subscription to a URI that is malformed or that the
// caller may not read, before mcp-go acknowledges it; it also starts the
// watcher, so that no change made after the acknowledgment is missed.
func (ss *subscriptions) check(ctx context.Context, _ any, message any) error {
	method, uris := subscriptionURIs(message)
	if method == "" {
		return nil
	}
	ctx = ss.srv.principal(ctx)
	if _, ok := fs.PrincipalFrom(ctx); !ok {
		return errors.New(errorText(fmt.Errorf("%w: the request has no principal", fs.ErrUnauthenticated)))
	}
	for _, uri := range uris {
		p, err := ParseURI(uri)
		if err != nil {
			return errors.New(errorText(err))
		}
		// A file that does not exist yet may be subscribed to (its
		// creation is an update); a refusal may not.
		if _, err := ss.srv.fsys.Stat(ctx, p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return errors.New(errorText(err))
		}
	}
	if len(uris) > 0 {
		if err := ss.start(); err != nil {
			return errors.New(errorText(err))
		}
	}
	return nil
}

func (ss *subscriptions) add(ctx context.Context, uris []string, legacy bool) {
	cs := server.ClientSessionFromContext(ctx)
	if cs == nil {
		return
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for _, uri := range uris {
		p, err := ParseURI(uri)
		if err != nil {
			continue
		}
		dup := false
		for _, sub := range ss.list {
			if sub.session == cs && sub.uri == uri {
				dup = true
			}
		}
		if dup {
			continue
		}
		sub := &subscription{session: cs, uri: uri, path: p}
		if legacy {
			sub.id = cs.SessionID()
		}
		ss.list = append(ss.list, sub)
	}
}

func (ss *subscriptions) remove(cs server.ClientSession, uri string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	out := ss.list[:0]
	for _, sub := range ss.list {
		if !(sub.uri == uri && (sub.session == cs || (cs != nil && sub.id != "" && sub.id == cs.SessionID()))) {
			out = append(out, sub)
		}
	}
	clear(ss.list[len(out):])
	ss.list = out
}

// dropSession removes the subscriptions of session cs, or of session id.
func (ss *subscriptions) dropSession(cs server.ClientSession, id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	out := ss.list[:0]
	for _, sub := range ss.list {
		if !((cs != nil && sub.session == cs) || (id != "" && sub.id == id)) {
			out = append(out, sub)
		}
	}
	clear(ss.list[len(out):])
	ss.list = out
}

// start starts the watcher once: it reads the log's last sequence number
// before returning, so every change after a subscription is acknowledged
// is delivered.
func (ss *subscriptions) start() error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.watching {
		return nil
	}
	w, ok := ss.srv.fsys.(fs.Watcher)
	if !ok {
		return fmt.Errorf("%w: this file system has no change log to send updates from", fs.ErrNotSupported)
	}
	ctx, cancel := context.WithCancel(fs.WithPrincipal(context.Background(), ss.srv.opts.WatchAs))
	notify := w.Notify(ctx)
	since, err := w.LastSeq(ctx)
	if err != nil {
		cancel()
		return err
	}
	ss.watching, ss.cancel, ss.done = true, cancel, make(chan struct{})
	go ss.watch(ctx, w, notify, since, ss.done)
	return nil
}

func (ss *subscriptions) stop() {
	ss.mu.Lock()
	cancel, done := ss.cancel, ss.done
	ss.watching, ss.cancel, ss.done = false, nil, nil
	ss.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// watch delivers the changes after since until ctx is done.
func (ss *subscriptions) watch(ctx context.Context, w fs.Watcher, notify <-chan struct{}, since uint64, done chan struct{}) {
	defer close(done)
	for {
		err := w.Changes(ctx, since, func(e fs.Event) error {
			since = e.Seq
			ss.deliver(e)
			return nil
		})
		if err != nil && ctx.Err() == nil {
			ss.srv.log.Warn("mcp: reading the change log for resource updates", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-notify:
		}
	}
}

// affects reports whether event e changes the file at p.
func affects(e fs.Event, p fs.Path) bool {
	if p.Within(e.Path) {
		return true // the file itself, or a directory above it removed or moved
	}
	return e.Op == fs.OpRename && e.Dest != "" && p.Within(e.Dest)
}

func (ss *subscriptions) deliver(e fs.Event) {
	ss.mu.Lock()
	var targets []*subscription
	for _, sub := range ss.list {
		if affects(e, sub.path) {
			targets = append(targets, sub)
		}
	}
	ss.mu.Unlock()
	for _, sub := range targets {
		params := map[string]any{"uri": sub.uri}
		if sub.id != "" {
			err := ss.srv.mcp.SendNotificationToSpecificClient(sub.id, mcpgo.MethodNotificationResourceUpdated, params)
			if err == nil || !(errors.Is(err, server.ErrSessionNotFound) || errors.Is(err, server.ErrSessionNotInitialized)) {
				continue
			}
		}
		// A listen stream's session (or a session mcp-go does not keep
		// registered) is reached through its own channel; a full channel
		// drops the update rather than stall the watcher.
		n := mcpgo.JSONRPCNotification{JSONRPC: mcpgo.JSONRPC_VERSION, Notification: mcpgo.Notification{
			Method: mcpgo.MethodNotificationResourceUpdated,
			Params: mcpgo.NotificationParams{AdditionalFields: params},
		}}
		select {
		case sub.session.NotificationChannel() <- n:
		default:
		}
	}
}
