package inspect

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// FetchJournal asks a running gateway's admin listener (host:port) for
// the journal records of q and copies them to w as they arrive, sending
// token (an admin token from the key file; "" sends none). It
// returns the record count the gateway confirmed and the last sequence
// number the answer covers (ask for last+1 next to follow the journal);
// ErrIncomplete when the transfer ended without that confirmation.
func FetchJournal(ctx context.Context, client *http.Client, addr, token string, q Query, w io.Writer) (n int, last uint64, err error) {
	var hdr http.Header
	n64, err := fetch(ctx, client, "http://"+addr+"/journal?"+q.Values().Encode(), token, w, &hdr)
	if err != nil {
		return 0, 0, err
	}
	last, err = strconv.ParseUint(hdr.Get(LastSeqHeader), 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: no %s", ErrIncomplete, LastSeqHeader)
	}
	return int(n64), last, nil
}

// FetchBackup streams a running gateway's online backup into w and
// returns its size, confirmed by the gateway; token as for FetchJournal.
// While another backup runs it fails with ErrBusy.
func FetchBackup(ctx context.Context, client *http.Client, addr, token string, w io.Writer) (int64, error) {
	return fetch(ctx, client, "http://"+addr+"/backup", token, w, nil)
}

// fetch copies the body of a GET to w and returns the count the gateway
// confirmed in ResultTrailer; hdr, when not nil, receives the headers.
func fetch(ctx context.Context, client *http.Client, url, token string, w io.Writer, hdr *http.Header) (int64, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		msg := strings.TrimSpace(string(body))
		switch resp.StatusCode {
		case http.StatusNotFound:
			msg = "not served (the admin listener serves it on loopback only, and needs a gateway that has it)"
		case http.StatusUnauthorized:
			msg = "the gateway did not accept the admin token: the key file's admin_tokens must hold a token " +
				"the running gateway knows (after editing it, reload the gateway: systemctl reload ecardgw)"
		case http.StatusForbidden:
			msg = "the admin listener refused the address asked for: use the listen.admin address, " +
				"localhost on loopback, or a name in admin.allowed_hosts"
		case http.StatusTooManyRequests:
			after, err := strconv.Atoi(resp.Header.Get("Retry-After"))
			if err != nil || after < 0 {
				after = BackupRetryAfter
			}
			return 0, fmt.Errorf("%w: %w: %s: HTTP 429, retry in %d s", ErrAdmin, ErrBusy, req.URL.Path, after)
		}
		return 0, fmt.Errorf("%w: %s: HTTP %d %s", ErrAdmin, req.URL.Path, resp.StatusCode, msg)
	}
	if hdr != nil {
		*hdr = resp.Header
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrIncomplete, err)
	}
	// Trailers are known only once the body has been read to its end.
	result := resp.Trailer.Get(ResultTrailer)
	num, ok := strings.CutPrefix(result, "ok ")
	if !ok {
		return 0, fmt.Errorf("%w (gateway said %q; see its log)", ErrIncomplete, result)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: bad confirmation %q", ErrIncomplete, result)
	}
	return n, nil
}
