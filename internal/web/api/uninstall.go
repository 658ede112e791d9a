package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/accordhq/accord/internal/store"
	"github.com/accordhq/accord/internal/uninstall"
)

// Uninstaller starts uninstalls (internal/uninstall).
type Uninstaller interface {
	Start(ctx context.Context, tenantID, installationID, actor string) (store.Uninstall, error)
}

// Uninstall is the API's view of an uninstall's progress.
type Uninstall struct {
	InstallationID string                 `json:"installation_id"`
	Contract       string                 `json:"contract"`
	Actor          string                 `json:"actor"`
	State          string                 `json:"state"`
	NextStep       string                 `json:"next_step"`
	Steps          []uninstall.StepResult `json:"steps"`
	PurgeAfter     time.Time              `json:"purge_after"`
	CreatedAt      time.Time              `json:"created_at"`
	UpdatedAt      time.Time              `json:"updated_at"`
}

func toUninstall(u store.Uninstall) (Uninstall, error) {
	steps, err := uninstall.Results(u)
	if err != nil {
		return Uninstall{}, err
	}
	if steps == nil {
		steps = []uninstall.StepResult{}
	}
	return Uninstall{InstallationID: u.InstallationID, Contract: u.Contract, Actor: u.Actor, State: string(u.State),
		NextStep: u.Step, Steps: steps, PurgeAfter: u.PurgeAfter, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}, nil
}

// startUninstall answers 202 with the uninstall's progress; a second call
// answers 409 with the progress of the first.
func (a *API) startUninstall(w http.ResponseWriter, r *http.Request) error {
	if a.deps.Uninstaller == nil {
		return &Error{Status: http.StatusNotImplemented, Msg: "this process does not run uninstalls"}
	}
	u, err := a.deps.Uninstaller.Start(r.Context(), r.PathValue("tenant"), r.PathValue("id"), "admin api")
	status := http.StatusAccepted
	if errors.Is(err, uninstall.ErrAlreadyUninstalled) {
		status = http.StatusConflict
	} else if err != nil {
		return err
	}
	out, err := toUninstall(u)
	if err != nil {
		return err
	}
	writeJSON(w, status, out)
	return nil
}

func (a *API) getUninstall(w http.ResponseWriter, r *http.Request) error {
	u, err := a.deps.Store.GetUninstall(r.Context(), r.PathValue("tenant"), r.PathValue("id"))
	if err != nil {
		return err
	}
	out, err := toUninstall(u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
