package gateway

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
	"github.com/heraldhq/herald/gateway/ws"
	"github.com/heraldhq/herald/internal/authguard"
	"github.com/heraldhq/herald/internal/reqframe"
)

// ProtocolVersion is the only Pusher protocol version served.
const ProtocolVersion = 7

// handshakeWriteTimeout bounds writing the first frames of a connection.
const handshakeWriteTimeout = 5 * time.Second

// Handler serves the WebSocket endpoint ({PathPrefix}/app/{key}).
func (g *Gateway) Handler() http.Handler { return http.HandlerFunc(g.serveWS) }

// Path is the route pattern the Handler must be mounted on.
func (g *Gateway) Path() string { return g.cfg.PathPrefix + "/app/" }

// SSEPath is where ServeSSE must be mounted.
func (g *Gateway) SSEPath() string { return g.cfg.PathPrefix + "/sse" }

func (g *Gateway) serveWS(w http.ResponseWriter, r *http.Request) {
	key, token, ok := g.splitPath(r)
	if !ok {
		NotFound(w, r)
		return
	}
	if g.shuttingDown.Load() {
		httpError(w, r, http.StatusServiceUnavailable, "gateway shutting down")
		return
	}
	ok, exempt := g.allowIP(w, r, "ws")
	if !ok {
		return
	}
	// Accepted, not yet answered: the 101 goes out with the first frame,
	// the greeting or the refusal, in one write.
	up, err := ws.Accept(w, r, ws.UpgradeConfig{Refuse: httpError, Timeout: handshakeWriteTimeout})
	if err != nil {
		g.cfg.Logger.Debug("websocket upgrade refused", "err", err)
		return
	}
	// The listener's framing scanner has done its job: the poller serves
	// the socket (or the *tls.Conn) under it.
	up.Conn = reqframe.Unwrap(up.Conn)
	nc, initial := up.Conn, up.Initial
	// Pusher reports connection errors inside the WebSocket, where the
	// client can read them: upgrade first, then refuse.
	app, code, msg := g.admit(r, key)
	if code == 0 {
		if ok, _ := g.allowApp(app.ID, exempt, "ws"); !ok {
			code, msg = channels.PusherOverCapacity, "too many new connections for this application: retry later"
		}
	}
	client := g.cfg.AuthGuard.Client(r)
	var claims *channels.TokenClaims
	if code == 0 && token != "" {
		if wait := g.cfg.AuthGuard.Throttled(client, authguard.KindToken); wait > 0 {
			code, msg = channels.PusherClientEventLimit, authguard.Message(wait)
		} else if claims, err = g.verifyConnToken(app, token); err != nil {
			g.cfg.AuthGuard.Failed(client, authguard.KindToken)
			code, msg = channels.PusherUnauthorized, err.Error()
		}
	}
	if code != 0 {
		g.metrics.refused.WithLabelValues(strconv.Itoa(int(code))).Inc()
		g.debugRefused(app, r, code, msg)
		refuse(up, code, msg)
		return
	}
	if refusal := g.reserveConn(app); refusal != connAdmitted {
		g.metrics.refused.WithLabelValues(strconv.Itoa(int(channels.PusherOverQuota))).Inc()
		g.debugRefused(app, r, channels.PusherOverQuota, connRefusalMessage(refusal))
		refuse(up, channels.PusherOverQuota, connRefusalMessage(refusal))
		return
	}
	// The key is cloned so that it does not pin the request line in memory
	// for the connection's lifetime.
	c := &conn{gw: g, sink: wsSink{}, socketID: g.newSocketID(), appID: app.ID, key: strings.Clone(key), meter: g.cfg.Meter.App(app.ID).Shard(),
		series: g.metrics.forApp(app.ID), client: client}
	if claims != nil {
		c.token.Store(newConnToken(claims, g.cfg.Now()))
	}
	c.lastActive.Store(g.cfg.Now().UnixNano())
	// The handshake event is written before the poller reads anything, so
	// it is always the first frame the client sees.
	hello := protocol.ConnectionEstablished(c.socketID, app.Settings.ActivityTimeoutS)
	if err := up.Send(ws.AppendFrame(nil, ws.OpText, true, hello)); err != nil {
		g.release(app.ID)
		_ = nc.Close()
		return
	}
	// Before the poller may report the close.
	g.debugConnected(c, r)
	wc, err := g.poller.AddLimited(nc, c, initial, clientMessageCap(app, g.cfg.MaxClientMessageBytes))
	if err != nil {
		g.release(app.ID)
		_ = nc.Close()
		return
	}
	// Registered only once its socket is known: app changes, keepalive and
	// shutdown write to registered connections.
	c.setWS(wc)
	c.series.connections.Inc()
	g.metrics.connectionsTotal.Inc()
	g.register(c)
	c.mu.Lock()
	gone := c.closed
	c.mu.Unlock()
	if gone {
		// OnClose ran before we registered it.
		g.unregister(c)
	}
}

// admit checks a new connection against the protocol version, the app and
// its settings. It returns a Pusher error code (0 when admitted), and the
// app once it is known, also when it refuses the connection.
func (g *Gateway) admit(r *http.Request, key string) (*channels.AppConfig, channels.WireCode, string) {
	proto := queryGet(r.URL.RawQuery, "protocol")
	if proto == "" {
		return nil, channels.PusherNoProtocol, "no protocol version supplied"
	}
	v, err := strconv.Atoi(proto)
	if err != nil {
		return nil, channels.PusherInvalidVersion, "invalid protocol version"
	}
	if v != ProtocolVersion {
		return nil, channels.PusherUnsupportedProtocol, "unsupported protocol version " + proto + ": only 7 is supported"
	}
	app, ok := g.cfg.Apps.ByKey(key)
	if !ok {
		return nil, channels.PusherAppNotFound, "application does not exist"
	}
	if !app.Enabled {
		return app, channels.PusherAppDisabled, "application disabled"
	}
	if !app.Settings.AllowsOrigin(r.Header.Get("Origin")) {
		return app, channels.PusherUnauthorized, "origin not allowed"
	}
	return app, 0, ""
}

// refuse answers an accepted handshake with pusher:error and a close
// frame with code, then closes the connection, which never reached the
// poller.
func refuse(up ws.Accepted, code channels.WireCode, message string) {
	frame := ws.AppendFrame(nil, ws.OpText, true, protocol.Error(code, message))
	frame = ws.AppendClose(frame, uint16(code), message)
	_ = up.Send(frame)
	_ = up.Conn.Close()
}
