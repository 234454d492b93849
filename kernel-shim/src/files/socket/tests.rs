use super::names::Given;
use super::*;

fn msg(data: &[u8]) -> Msg {
    Msg {
        data: data.to_vec(),
        fds: Vec::new(),
        cred: Ucred::default(),
        from: None,
    }
}

fn pair(kind: Kind) -> (SocketRef, SocketRef) {
    let a = Socket::new(1, kind, Ucred::default());
    let b = Socket::new(2, kind, Ucred::default());
    Socket::link(&a, &b);
    (a, b)
}

#[test]
fn stream_joins_messages_and_sees_eof() {
    let (a, b) = pair(Kind::Stream);
    assert_eq!(b.borrow_mut().recv(8, false).err(), Some(Errno::EAGAIN));
    assert_eq!(Socket::send(&a, msg(b"abc"), None), Ok(3));
    assert_eq!(Socket::send(&a, msg(b"def"), None), Ok(3));
    assert_ne!(b.borrow().poll() & poll::POLLIN, 0);
    assert_eq!(b.borrow_mut().recv(4, true).unwrap().data, b"abcd");
    assert_eq!(b.borrow_mut().recv(4, false).unwrap().data, b"abcd");
    assert_eq!(b.borrow_mut().recv(8, false).unwrap().data, b"ef");
    drop(a);
    assert_eq!(b.borrow_mut().recv(8, false).unwrap().data, b"");
    assert_ne!(b.borrow().poll() & poll::POLLHUP, 0);
    assert_eq!(Socket::send(&b, msg(b"x"), None), Err(Errno::EPIPE));
}

#[test]
fn seqpacket_keeps_boundaries_and_truncates() {
    let (a, b) = pair(Kind::SeqPacket);
    Socket::send(&a, msg(b"hello"), None).unwrap();
    Socket::send(&a, msg(b"yo"), None).unwrap();
    let r = b.borrow_mut().recv(3, false).unwrap();
    assert_eq!(
        (r.data.as_slice(), r.truncated, r.full_len),
        (&b"hel"[..], true, 5)
    );
    assert_eq!(b.borrow_mut().recv(9, false).unwrap().data, b"yo");
}

#[test]
fn stream_send_is_short_when_the_queue_fills() {
    let (a, b) = pair(Kind::Stream);
    b.borrow_mut().rcvbuf = 10;
    assert_eq!(Socket::send(&a, msg(&[1; 16]), None), Ok(10));
    assert_eq!(Socket::send(&a, msg(&[1; 4]), None), Err(Errno::EAGAIN));
    assert_eq!(a.borrow().poll() & poll::POLLOUT, 0);
    b.borrow_mut().recv(5, false).unwrap();
    assert_ne!(a.borrow().poll() & poll::POLLOUT, 0);
}

#[test]
fn shutdown_is_mirrored_to_the_peer() {
    let (a, b) = pair(Kind::Stream);
    Socket::shutdown(&a, 1).unwrap();
    assert_eq!(Socket::send(&a, msg(b"x"), None), Err(Errno::EPIPE));
    assert_eq!(b.borrow_mut().recv(4, false).unwrap().data, b"");
    assert_ne!(b.borrow().poll() & POLLRDHUP, 0);
    assert_eq!(Socket::send(&b, msg(b"y"), None), Ok(1));
}

#[test]
fn listener_queues_connections() {
    let l = Socket::new(1, Kind::Stream, Ucred::default());
    assert_eq!(l.borrow_mut().listen(5), Err(Errno::EINVAL));
    l.borrow_mut().name = Some(Addr::Abstract(b"x".to_vec()));
    l.borrow_mut().listen(5).unwrap();
    assert_eq!(l.borrow().poll() & poll::POLLIN, 0);
    let c = Socket::new(2, Kind::Stream, Ucred::default());
    let s = Socket::new(3, Kind::Stream, Ucred::default());
    Socket::link(&c, &s);
    if let State::Listening { queue, .. } = &mut l.borrow_mut().state {
        queue.push_back(s);
    }
    assert_ne!(l.borrow().poll() & poll::POLLIN, 0);
    let got = l.borrow_mut().accept().unwrap();
    Socket::send(&c, msg(b"hi"), None).unwrap();
    assert_eq!(got.borrow_mut().recv(8, false).unwrap().data, b"hi");
}

#[test]
fn sockaddr_un_parsing() {
    let mut raw = vec![1, 0];
    assert_eq!(Addr::parse(&raw), Ok(Given::Unnamed));
    raw.extend_from_slice(b"/tmp/s\0junk");
    assert_eq!(
        Addr::parse(&raw),
        Ok(Given::Name(Addr::Path(b"/tmp/s".to_vec())))
    );
    let abs = [1, 0, 0, b'a', b'b'];
    assert_eq!(
        Addr::parse(&abs),
        Ok(Given::Name(Addr::Abstract(b"ab".to_vec())))
    );
    assert_eq!(Addr::parse(&[2, 0, b'x']), Err(Errno::EINVAL));
    let p = Addr::Path(b"/s".to_vec());
    assert_eq!(Addr::encode(Some(&p)), [1, 0, b'/', b's', 0]);
    assert_eq!(Addr::encode(None), [1, 0]);
}

#[test]
fn abstract_names_free_when_closed() {
    let mut ns = Namespace::default();
    let a = Socket::new(1, Kind::Stream, Ucred::default());
    ns.bind_abstract(b"n", &a).unwrap();
    let b = Socket::new(2, Kind::Stream, Ucred::default());
    assert_eq!(ns.bind_abstract(b"n", &b), Err(Errno::EADDRINUSE));
    drop(a);
    assert!(ns.find_abstract(b"n").is_none());
    ns.bind_abstract(b"n", &b).unwrap();
    assert_eq!(ns.auto_name().len(), 5);
}
