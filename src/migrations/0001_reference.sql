-- Up Migration

-- One row per notification type: the type decides the queue (DOMAIN.md "Notification types and their queue").
CREATE TABLE notification_types (
  code text PRIMARY KEY,
  queue text NOT NULL CHECK (queue IN ('urgent', 'high_priority', 'normal', 'low_priority')),
  label text NOT NULL,
  ttl_seconds integer NOT NULL CHECK (ttl_seconds > 0),
  collapse_key text NULL
);

-- TTLs: how long a push is still worth delivering; urgent/high go stale within hours, broadcasts within a week.
-- Collapse keys: a newer push replaces an older one of the same key on the device; FCM keeps at most four keys.
INSERT INTO notification_types (code, queue, label, ttl_seconds, collapse_key) VALUES
  ('outage',                'urgent',        'Outage on your meter',                 14400,  'outage'),
  ('restoration',           'urgent',        'Power restored on your meter',         14400,  'outage'),
  ('security_new_device',   'urgent',        'Sign-in from a new device',            86400,  NULL),
  ('security_pin_changed',  'urgent',        'PIN changed',                          86400,  NULL),
  ('one_time_code',         'urgent',        'One-time code',                        600,    NULL),
  ('purchase_confirmation', 'high_priority', 'Woyofal purchase confirmed',           86400,  NULL),
  ('low_credit',            'high_priority', 'Low credit',                           43200,  'low_credit'),
  ('bill_due',              'high_priority', 'Bill due',                             86400,  'bill_reminder'),
  ('bill_overdue',          'high_priority', 'Bill overdue',                         86400,  'bill_reminder'),
  ('disconnection_warning', 'high_priority', 'Disconnection warning',                86400,  NULL),
  ('meter_access_request',  'high_priority', 'Request to access your meter',         86400,  NULL),
  ('link_approved',         'high_priority', 'Meter link approved',                  86400,  NULL),
  ('link_rejected',         'high_priority', 'Meter link rejected',                  86400,  NULL),
  ('new_bill',              'normal',        'New bill available',                   259200, NULL),
  ('request_status',        'normal',        'Request status changed',               259200, NULL),
  ('subscription_step',     'normal',        'Subscription step completed',          259200, NULL),
  ('monthly_summary',       'normal',        'Monthly summary',                      259200, 'monthly_summary'),
  ('planned_works',         'low_priority',  'Planned works in your area',           604800, NULL),
  ('tariff_news',           'low_priority',  'Tariff news',                          604800, NULL),
  ('advice',                'low_priority',  'Advice',                               604800, NULL),
  ('campaign',              'low_priority',  'Campaign',                             604800, NULL);

-- Queues paused by the control plane; a row present means the queue's consumers hold off.
CREATE TABLE queue_pauses (
  queue text PRIMARY KEY CHECK (queue IN ('urgent', 'high_priority', 'normal', 'low_priority')),
  paused_at timestamptz NOT NULL,
  paused_by text NOT NULL,
  reason text NOT NULL
);

-- Down Migration

DROP TABLE queue_pauses;
DROP TABLE notification_types;
