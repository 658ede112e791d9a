package sim_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accordhq/accord/internal/sim"
)

func TestChat(t *testing.T) {
	t.Parallel()
	c := sim.NewChat(&sim.Config{Token: token})
	t.Cleanup(c.Stop)
	url := serve(t, c.Handler())

	r := call(t, http.MethodPost, url+"/v1/channels/escalations/messages", token, map[string]string{"text": "T-1 escalated"})
	require.Equal(t, http.StatusCreated, r.Status)
	require.Equal(t, "msg_1", r.JSON(t)["id"])
	r = call(t, http.MethodPost, url+"/v1/channels/escalations/messages", token, map[string]string{"text": "T-2 escalated"})
	require.Equal(t, "msg_2", r.JSON(t)["id"])

	msgs := c.Messages("escalations")
	require.Len(t, msgs, 2)
	require.Equal(t, "T-1 escalated", msgs[0].Text)
	require.Empty(t, c.Messages("general"))

	r = call(t, http.MethodGet, url+"/v1/channels/escalations/messages", token, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Len(t, r.JSON(t)["messages"], 2)

	r = call(t, http.MethodPost, url+"/v1/channels/escalations/messages", token, map[string]string{"text": " "})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Equal(t, "text is required", r.ErrorMessage(t))

	r = call(t, http.MethodPost, url+"/v1/channels/escalations/messages", "wrong", map[string]string{"text": "hi"})
	require.Equal(t, http.StatusUnauthorized, r.Status)
	require.Len(t, c.Messages("escalations"), 2)
}
