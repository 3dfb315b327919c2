//! Recorded events into wire batches: one page's events, numbered per page from 0, with delta
//! timestamps, encoded as MessagePack and compressed with LZ4 by the protocol crate, and sealed
//! with the session's writer secret.

use sightline_protocol::{
    encode_batch, seal, Batch, EncodeError, Event, EventData, PageMeta, SessionId, TraceKey, WriterSecret,
};

/// Events waiting to be shipped for one page of one session.
#[derive(Debug)]
pub struct Batcher {
    project: String,
    session: SessionId,
    writer: Option<WriterSecret>,
    page: u32,
    next_seq: u32,
    start: u64,
    last: u64,
    events: Vec<Event>,
    /// The page's key for the trace ids it derives, once the page has one.
    pub trace_key: Option<TraceKey>,
}

/// A batch ready to send: its sequence number within the page and its bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Shipment {
    /// Sequence number within the page; a retry sends the same bytes again.
    pub seq: u32,
    /// The framed batch, sealed when its session has a writer secret.
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Shipment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The bytes are sealed with the session's writer secret: their size only.
        f.debug_struct("Shipment").field("seq", &self.seq).field("bytes", &self.bytes.len()).finish()
    }
}

impl Batcher {
    /// A batcher for `page` of `session` (sealed with `writer`) in the project with ingest key
    /// `project`.
    pub fn new(project: impl Into<String>, session: SessionId, writer: Option<WriterSecret>, page: u32) -> Batcher {
        let project = project.into();
        Batcher { project, session, writer, page, next_seq: 0, start: 0, last: 0, events: Vec::new(), trace_key: None }
    }

    /// Adds an event that happened at `time` (ms since the Unix epoch). Times that go
    /// backwards are recorded as simultaneous with the event before.
    pub fn push(&mut self, time: u64, data: EventData) {
        if self.events.is_empty() {
            self.start = time;
            self.last = time;
        }
        let dt = u32::try_from(time.saturating_sub(self.last)).unwrap_or(u32::MAX);
        self.last = self.last.max(time);
        self.events.push(Event { dt, data });
    }

    /// The page metadata among the waiting events, to complete it before it is sent.
    pub fn meta_mut(&mut self) -> Option<&mut PageMeta> {
        self.events.iter_mut().find_map(|event| match &mut event.data {
            EventData::Meta(meta) => Some(meta.as_mut()),
            _ => None,
        })
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether no events are waiting.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Encodes the waiting events as the page's next batch, sent at `now`; `None` when there
    /// is nothing to send.
    pub fn take(&mut self, now: u64) -> Result<Option<Shipment>, EncodeError> {
        if self.events.is_empty() {
            return Ok(None);
        }
        // The key goes with a batch only when one of its requests derived its ids from it.
        let derived = |key: &TraceKey| {
            self.events.iter().any(|e| matches!(&e.data, EventData::Network(n) if n.trace == Some(key.derive(n.id))))
        };
        let trace_key = self.trace_key.filter(derived);
        let batch = Batch {
            project: self.project.clone(),
            session: self.session,
            page: self.page,
            seq: self.next_seq,
            start: self.start,
            sent: now,
            events: std::mem::take(&mut self.events),
            trace_key,
        };
        let mut bytes = encode_batch(&batch)?;
        if let Some(writer) = &self.writer {
            bytes = seal(writer, &bytes);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        Ok(Some(Shipment { seq, bytes }))
    }

    /// Switches to another session and page (a session that ended while the page stayed open),
    /// dropping nothing: waiting events should be taken first.
    pub fn restart(&mut self, session: SessionId, writer: Option<WriterSecret>, page: u32) {
        self.session = session;
        self.writer = writer;
        self.page = page;
        self.next_seq = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_protocol::{decode_batch, Limits, Visibility};

    fn visible(v: bool) -> EventData {
        EventData::Visibility(Visibility { visible: v })
    }

    #[test]
    fn the_trace_key_goes_only_with_batches_whose_requests_derived_their_ids_from_it() {
        use sightline_protocol::{Network, TraceKey};
        let key = TraceKey([5; 32]);
        let call = |id, trace| EventData::Network(Box::new(Network { id, trace, ..Network::default() }));
        let mut batcher = Batcher::new("slk_key", SessionId([7; 16]), None, 0);
        batcher.trace_key = Some(key);
        batcher.push(1_000, call(1, None));
        let plain = batcher.take(1_001).unwrap().unwrap().bytes;
        assert_eq!((plain[3], decode_batch(&plain, &Limits::default()).unwrap().trace_key), (2, None));

        batcher.push(1_002, call(2, Some(key.derive(2))));
        // A session that ended while the page stayed open keeps the page's key.
        batcher.restart(SessionId([8; 16]), None, 1);
        batcher.push(1_003, call(3, Some(key.derive(3))));
        let keyed = batcher.take(1_004).unwrap().unwrap().bytes;
        assert_eq!(keyed[3], sightline_protocol::frame::TRACE_KEY_VERSION);
        let decoded = decode_batch(&keyed, &Limits::default()).unwrap();
        assert_eq!(decoded.trace_key, Some(key));
        let traces: Vec<_> = decoded
            .events
            .iter()
            .map(|e| match &e.data {
                EventData::Network(n) => n.trace,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(traces, vec![Some(key.derive(2)), Some(key.derive(3))]);
    }

    #[test]
    fn metadata_waiting_to_be_sent_can_be_completed() {
        let mut batcher = Batcher::new("slk_key", SessionId([7; 16]), None, 0);
        assert!(batcher.meta_mut().is_none());
        batcher.push(1_000, EventData::Meta(Box::default()));
        batcher.push(1_001, visible(true));
        batcher.meta_mut().expect("the waiting metadata").timezone = "Europe/Paris".into();
        let decoded = decode_batch(&batcher.take(1_002).unwrap().unwrap().bytes, &Limits::default()).unwrap();
        let EventData::Meta(meta) = &decoded.events[0].data else { panic!("{:?}", decoded.events) };
        assert_eq!(meta.timezone, "Europe/Paris");
    }

    #[test]
    fn batches_are_numbered_per_page_and_keep_event_times() {
        let session = SessionId([7; 16]);
        let mut batcher = Batcher::new("slk_key", session, None, 2);
        assert_eq!(batcher.take(0).unwrap(), None);
        batcher.push(1_000, visible(true));
        batcher.push(1_250, visible(false));
        batcher.push(1_200, visible(true)); // the clock stepped back
        let first = batcher.take(1_300).unwrap().unwrap();
        assert_eq!(first.seq, 0);
        let decoded = decode_batch(&first.bytes, &Limits::default()).unwrap();
        assert_eq!((decoded.project.as_str(), decoded.session, decoded.page, decoded.seq), ("slk_key", session, 2, 0));
        assert_eq!((decoded.start, decoded.sent), (1_000, 1_300));
        let times: Vec<u64> = decoded.timed_events().map(|e| e.time).collect();
        assert_eq!(times, vec![1_000, 1_250, 1_250]);
        assert!(batcher.is_empty());

        batcher.push(5_000, visible(false));
        let second = batcher.take(5_001).unwrap().unwrap();
        assert_eq!(second.seq, 1);
        assert_eq!(decode_batch(&second.bytes, &Limits::default()).unwrap().start, 5_000);

        let other = SessionId([8; 16]);
        batcher.restart(other, None, 0);
        batcher.push(6_000, visible(true));
        let third = decode_batch(&batcher.take(6_000).unwrap().unwrap().bytes, &Limits::default()).unwrap();
        assert_eq!((third.session, third.page, third.seq), (other, 0, 0));

        // A session with a writer: every batch sealed with its secret, the batch inside as is.
        let writer = sightline_protocol::WriterSecret([9; 16]);
        batcher.restart(other, Some(writer), 1);
        batcher.push(7_000, visible(true));
        let sealed = batcher.take(7_000).unwrap().unwrap().bytes;
        let (secret, framed) = sightline_protocol::unseal(&sealed).unwrap();
        assert_eq!(secret, Some(writer));
        assert_eq!(decode_batch(framed, &Limits::default()).unwrap().page, 1);
    }
}
