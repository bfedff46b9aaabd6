package inbox

import (
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Outbox keys.
const (
	pfxOutbox   = "o/"  // o/<due unix nanos, 8 bytes BE>/<id>/<destination> → Delivery (JSON)
	pfxDelivery = "dl/" // dl/<id>/<destination> → DeliveryState (JSON)
)

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryDead      = "dead"
)

// Delivery is one event's pending forward to one destination.
type Delivery struct {
	EventID     string    `json:"event_id"`
	Destination string    `json:"destination"`
	InterviewID string    `json:"interview_id,omitempty"`
	Seq         uint64    `json:"seq"`      // the event's archive sequence: receive order
	Attempts    int       `json:"attempts"` // attempts made so far
	DueAt       time.Time `json:"due_at"`
}

// DeliveryState is where one event's forward to one destination stands.
type DeliveryState struct {
	Destination string    `json:"destination"`
	Status      string    `json:"status"` // DeliveryPending, DeliveryDelivered or DeliveryDead
	Attempts    int       `json:"attempts"`
	NextAt      time.Time `json:"next_at,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func outboxKey(due time.Time, id, dest string) []byte {
	k := append([]byte(pfxOutbox), timeBytes(due)...)
	return append(k, "/"+id+"/"+dest...)
}

func deliveryKey(id, dest string) []byte { return []byte(pfxDelivery + id + "/" + dest) }

// enqueue stages one outbox entry per destination of ev, due now.
func enqueue(txn *badger.Txn, ev *Event, now time.Time) error {
	for _, dest := range ev.Destinations {
		d := Delivery{EventID: ev.ID, Destination: dest, InterviewID: ev.InterviewID, Seq: ev.Seq, DueAt: now}
		if err := putJSON(txn, outboxKey(now, ev.ID, dest), d); err != nil {
			return fmt.Errorf("enqueue %s: %w", dest, err)
		}
		st := DeliveryState{Destination: dest, Status: DeliveryPending, NextAt: now, UpdatedAt: now}
		if err := putJSON(txn, deliveryKey(ev.ID, dest), st); err != nil {
			return fmt.Errorf("enqueue %s: %w", dest, err)
		}
	}
	return nil
}

// Pending lists every outbox entry, earliest due first.
func (db *DB) Pending() ([]Delivery, error) {
	var out []Delivery
	err := db.bdb.View(func(txn *badger.Txn) error {
		return scanJSON(txn, pfxOutbox, func(d *Delivery) error {
			out = append(out, *d)
			return nil
		})
	})
	return out, err
}

// Deliveries returns the forwarding state of event id per destination.
func (db *DB) Deliveries(id string) ([]DeliveryState, error) {
	var out []DeliveryState
	err := db.bdb.View(func(txn *badger.Txn) error {
		return scanJSON(txn, pfxDelivery+id+"/", func(d *DeliveryState) error {
			out = append(out, *d)
			return nil
		})
	})
	return out, err
}
