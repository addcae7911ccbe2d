package api

import (
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/channels"
)

// maxUserIDLen bounds user ids, as the gateway does for sign-in.
const maxUserIDLen = 128

// terminateConnections closes the user's connections on every gateway,
// signed in as the user or opened with a token whose sub is the user
// (POST /apps/{id}/users/{user_id}/terminate_connections). The SDKs send
// {} as the body; it carries nothing and is not read. The answer
// is {} once the gateways acted, or once the query timeout passed for
// those that did not answer (logged).
func (a *API) terminateConnections(c echo.Context) error {
	app := appOf(c)
	userID, err := pathParam(c, "user_id")
	if err != nil || userID == "" || textProblem(userID) != "" || utf8.RuneCountInString(userID) > maxUserIDLen {
		return channels.BadRequest("user_id", fmt.Sprintf("user id must be 1 to %d characters of UTF-8 text without NUL", maxUserIDLen))
	}
	if a.occupancy == nil {
		return errNoOccupancy
	}
	ctx := c.Request().Context()
	if _, _, err := a.occupancy.Terminate(ctx, app.ID, userID); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		a.logger.Warn("terminate connections failed", "app", app.ID, "err", err)
		return errOccupancyUnavailable
	}
	return c.JSON(http.StatusOK, struct{}{})
}
