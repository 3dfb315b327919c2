#![cfg(not(target_arch = "wasm32"))]
//! Property test: every batch the model can express survives encode → decode unchanged.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use sightline_protocol::*;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[a-z0-9 ]{1,12}", any::<String>()]
}

fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    vec((text(), text()), 0..4)
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        // NaN never equals itself; every other float round-trips exactly.
        any::<f64>().prop_filter("NaN", |f| !f.is_nan()).prop_map(Value::Float),
        text().prop_map(Value::Str),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![vec(inner.clone(), 0..4).prop_map(Value::List), vec((text(), inner), 0..4).prop_map(Value::Map),]
    })
}

fn software() -> impl Strategy<Value = Software> {
    (text(), text()).prop_map(|(name, version)| Software { name, version })
}

fn size() -> impl Strategy<Value = Size> {
    (any::<u32>(), any::<u32>()).prop_map(|(width, height)| Size { width, height })
}

fn byte_enum<T: Copy + std::fmt::Debug + 'static>(from: fn(u8) -> T) -> impl Strategy<Value = T> {
    any::<u8>().prop_map(from)
}

fn node_kind() -> impl Strategy<Value = NodeKind> {
    prop_oneof![
        Just(NodeKind::Document(DocumentNode {})),
        (text(), text(), text()).prop_map(|(name, public_id, system_id)| NodeKind::Doctype(Doctype {
            name,
            public_id,
            system_id
        })),
        (text(), pairs(), byte_enum(Namespace::from_u8)).prop_map(|(tag, attrs, ns)| NodeKind::Element(Element {
            tag,
            attrs,
            ns
        })),
        text().prop_map(NodeKind::Text),
        text().prop_map(NodeKind::Comment),
        text().prop_map(NodeKind::CData),
        Just(NodeKind::ShadowRoot(ShadowRootNode {})),
    ]
}

fn node() -> impl Strategy<Value = Node> {
    (any::<u32>(), any::<u32>(), any::<u32>(), node_kind()).prop_map(|(id, parent, next, kind)| Node {
        id,
        parent,
        next,
        kind,
    })
}

fn http_message() -> impl Strategy<Value = HttpMessage> {
    let body = (option::of(text()), any::<u64>(), any::<bool>()).prop_map(|(text, size, truncated)| Body {
        text,
        size,
        truncated,
    });
    (pairs(), option::of(body)).prop_map(|(headers, body)| HttpMessage { headers, body })
}

fn trace() -> impl Strategy<Value = TraceContext> {
    (any::<[u8; 16]>(), any::<[u8; 8]>()).prop_map(|(t, s)| TraceContext { trace_id: TraceId(t), span_id: SpanId(s) })
}

fn page_meta() -> impl Strategy<Value = PageMeta> {
    (
        (text(), text(), text(), text()),
        (software(), software(), byte_enum(DeviceType::from_u8), size(), size()),
        (any::<f32>().prop_filter("NaN", |f| !f.is_nan()), text(), text(), any::<i16>(), text()),
    )
        .prop_map(
            |(
                (url, referrer, title, user_agent),
                (browser, os, device, screen, viewport),
                (pixel_ratio, language, timezone, utc_offset, sdk),
            )| PageMeta {
                url,
                referrer,
                title,
                user_agent,
                browser,
                os,
                device,
                screen,
                viewport,
                pixel_ratio,
                language,
                timezone,
                utc_offset,
                sdk,
            },
        )
}

fn network() -> impl Strategy<Value = Network> {
    (
        (any::<u32>(), byte_enum(Initiator::from_u8), text(), text(), any::<u16>(), any::<u32>()),
        (option::of(any::<u64>()), option::of(any::<u64>()), option::of(http_message()), option::of(http_message())),
        (option::of(text()), option::of(trace())),
    )
        .prop_map(
            |(
                (id, initiator, method, url, status, duration),
                (request_size, response_size, request, response),
                (error, trace),
            )| Network {
                id,
                initiator,
                method,
                url,
                status,
                duration,
                request_size,
                response_size,
                request,
                response,
                error,
                trace,
            },
        )
}

fn event_data() -> impl Strategy<Value = EventData> {
    prop_oneof![
        page_meta().prop_map(|m| EventData::Meta(Box::new(m))),
        vec(node(), 0..6).prop_map(|nodes| EventData::Snapshot(Snapshot { nodes })),
        (
            vec(any::<u32>(), 0..4),
            vec(node(), 0..4),
            vec(
                (any::<u32>(), text(), option::of(text())).prop_map(|(id, name, value)| AttributeChange {
                    id,
                    name,
                    value
                }),
                0..3
            ),
            vec((any::<u32>(), text()).prop_map(|(id, text)| TextChange { id, text }), 0..3),
        )
            .prop_map(|(removes, adds, attrs, texts)| EventData::Mutation(Mutation {
                removes,
                adds,
                attrs,
                texts
            })),
        (any::<u32>(), any::<u32>(), vec(text(), 0..4), text())
            .prop_map(|(id, owner, rules, media)| EventData::StyleSheet(StyleSheet { id, owner, rules, media })),
        (any::<u32>(), vec(any::<u32>(), 0..3), option::of(text()))
            .prop_map(|(sheet, path, rule)| EventData::StyleRule(StyleRule { sheet, path, rule })),
        (any::<u32>(), vec(any::<u32>(), 0..3))
            .prop_map(|(host, sheets)| EventData::AdoptedStyleSheets(AdoptedStyleSheets { host, sheets })),
        (byte_enum(PointerKind::from_u8), any::<u32>(), any::<i32>(), any::<i32>())
            .prop_map(|(kind, target, x, y)| EventData::Pointer(Pointer { kind, target, x, y })),
        vec((any::<i32>(), any::<i32>(), any::<u32>()).prop_map(|(x, y, offset)| MovePoint { x, y, offset }), 0..5)
            .prop_map(|points| EventData::MouseMove(MouseMove { points })),
        (any::<u32>(), any::<i32>(), any::<i32>()).prop_map(|(target, x, y)| EventData::Scroll(Scroll {
            target,
            x,
            y
        })),
        size().prop_map(|size| EventData::Viewport(Viewport { size })),
        (any::<u32>(), text(), option::of(any::<bool>()), any::<bool>(), any::<bool>()).prop_map(
            |(target, value, checked, masked, scripted)| {
                EventData::Input(Input { target, value, checked, masked, scripted })
            }
        ),
        (any::<u32>(), any::<bool>()).prop_map(|(target, focused)| EventData::Focus(Focus { target, focused })),
        any::<bool>().prop_map(|visible| EventData::Visibility(Visibility { visible })),
        (byte_enum(NavigationKind::from_u8), text(), text())
            .prop_map(|(kind, url, title)| EventData::Navigation(Navigation { kind, url, title })),
        network().prop_map(|n| EventData::Network(Box::new(n))),
        (byte_enum(ConsoleLevel::from_u8), vec(text(), 0..3), option::of(text()))
            .prop_map(|(level, args, stack)| EventData::Console(Console { level, args, stack })),
        (
            (byte_enum(ErrorKind::from_u8), text(), text(), option::of(text())),
            (text(), any::<u32>(), any::<u32>(), any::<u32>())
        )
            .prop_map(|((kind, name, message, stack), (source, line, column, target))| EventData::Error(
                Box::new(ErrorEvent { kind, name, message, stack, source, line, column, target })
            )),
        (text(), value()).prop_map(|(user_id, traits)| EventData::Identify(Identify { user_id, traits })),
        (text(), value()).prop_map(|(name, props)| EventData::Custom(Custom { name, props })),
        (any::<u32>(), text()).prop_map(|(target, data_url)| EventData::Canvas(CanvasFrame { target, data_url })),
        (any::<u32>(), text(), any::<u8>()).prop_map(|(target, key, modifiers)| EventData::Key(Key {
            target,
            key,
            modifiers
        })),
        any::<u32>().prop_map(|target| EventData::Submit(Submit { target })),
        text().prop_map(|text| EventData::Feedback(Feedback { text })),
    ]
}

fn batch() -> impl Strategy<Value = Batch> {
    (
        (text(), any::<[u8; 16]>(), any::<u32>(), any::<u32>(), any::<u64>(), any::<u64>()),
        vec((any::<u32>(), event_data()).prop_map(|(dt, data)| Event { dt, data }), 0..12),
    )
        .prop_map(|((project, session, page, seq, start, sent), events)| Batch {
            project,
            session: SessionId(session),
            page,
            seq,
            start,
            sent,
            events,
            trace_key: None,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    #[test]
    fn every_batch_round_trips(batch in batch()) {
        let bytes = encode_batch(&batch).unwrap();
        prop_assert_eq!(decode_batch(&bytes, &Limits::default()).unwrap(), batch);
    }

    #[test]
    fn keyed_batches_round_trip_on_both_decoding_paths(batch in batch(), key in any::<[u8; 32]>(), every in 1usize..4) {
        // Some requests derived their ids from the page's key, the others keep theirs.
        let key = TraceKey(key);
        let mut batch = Batch { trace_key: Some(key), ..batch };
        for (i, event) in batch.events.iter_mut().enumerate() {
            if let EventData::Network(call) = &mut event.data {
                if i % every == 0 {
                    call.trace = Some(key.derive(call.id));
                }
            }
        }
        let bytes = encode_batch(&batch).unwrap();
        prop_assert_eq!(&decode_batch(&bytes, &Limits::default()).unwrap(), &batch);
        let payload = encode_payload(&batch).unwrap();
        let scanned = Limits { max_depth: 100, ..Limits::default() };
        prop_assert_eq!(decode_payload(&payload, &scanned).unwrap(), batch);
    }

    #[test]
    fn the_hand_written_encoder_writes_what_serde_writes(batch in batch()) {
        prop_assert_eq!(encode_payload(&batch).unwrap(), rmp_serde::to_vec(&batch).unwrap());
    }

    #[test]
    fn unknown_event_kinds_are_skipped(known in event_data(), tag in 24u8..=255, body in value()) {
        // A newer SDK's event kind, with a body of any shape, between two known events. The
        // tuple below is laid out exactly as `Batch` is: a 7-element array.
        let first = Event { dt: 0, data: known.clone() };
        let last = Event { dt: 2, data: known.clone() };
        let payload = rmp_serde::to_vec(&(
            "slk", SessionId([7; 16]), 0u32, 0u32, 0u64, 0u64, (&first, (1u32, tag, &body), &last),
        )).unwrap();
        let decoded = decode_payload(&payload, &Limits::default()).unwrap();
        prop_assert_eq!(decoded.events.len(), 3);
        prop_assert_eq!(&decoded.events[0], &first);
        prop_assert_eq!(&decoded.events[1], &Event { dt: 1, data: EventData::Unknown(tag) });
        prop_assert_eq!(&decoded.events[2], &last);
    }
}
