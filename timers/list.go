package timers

import "time"

// A timerList holds the active timers of one duration, in whole
// milliseconds, in the order they were (re)armed, which is also the order of
// their deadlines: Node's per-duration TimersList. Only its head can be due.
type timerList struct {
	d          int64 // the duration in ns: ms whole milliseconds
	ms         uint32
	head, tail *Timer
	expiry     int64 // heap key: the head's deadline, or earlier (stale after a removal)
	index      int   // position in the loop's heap, -1 when not in it
}

// shrinkAbove is the size above which the loop's map of lists and heap are
// rebuilt smaller once three quarters of their peak have gone, so that
// memory follows the timers armed now, not the most ever armed; smaller
// ones are kept for reuse.
const shrinkAbove = 64

// listFor returns the list of ms milliseconds, the one last armed into
// when it is that duration (no map lookup), otherwise the one in l.lists or
// a new one. The list last armed into stays in l.lists when it empties,
// out of the heap, so that a timeout set and cleared again and again on an
// otherwise idle loop finds its list without a map insert and delete (Node
// likewise keeps an emptied list until its timers phase finds it). At most
// that one list is kept empty: it is dropped when another list becomes the
// last, so the lists still follow the timers armed now. l.mu must be held.
func (l *Loop) listFor(ms uint32) *timerList {
	last := l.last
	if last != nil && last.ms == ms {
		return last
	}
	if last != nil && last.head == nil {
		l.dropList(last) // the one empty list kept: no longer the last
	}
	ls := l.lists[ms]
	if ls == nil {
		ls = l.newList(ms)
	}
	l.last = ls
	return ls
}

// emptied handles a list whose last timer was taken out: the last list
// armed into leaves the heap but stays in l.lists (see listFor), any other
// is dropped. l.mu must be held.
func (l *Loop) emptied(ls *timerList) {
	if ls != l.last {
		l.dropList(ls)
		return
	}
	if ls.index >= 0 {
		l.heap.removeAt(ls.index)
	}
}

// newList returns an empty list for ms milliseconds, registered in l.lists
// (not yet in the heap). l.mu must be held.
func (l *Loop) newList(ms uint32) *timerList {
	ls := l.spareList
	if ls != nil {
		l.spareList = nil
	} else {
		ls = new(timerList)
	}
	*ls = timerList{d: int64(ms) * int64(time.Millisecond), ms: ms, index: -1}
	if l.lists == nil {
		l.lists = make(map[uint32]*timerList)
	}
	l.lists[ms] = ls
	l.listsPeak = max(l.listsPeak, len(l.lists))
	return ls
}

// dropList forgets an empty list, keeping it as the spare for the next
// newList. A map never shrinks and a slice keeps its capacity, so once the
// lists fall to a quarter of their peak, the map is rebuilt from the heap
// (which holds the same lists, but for the empty last one) and the heap is
// copied to a smaller array. l.mu must be held.
func (l *Loop) dropList(ls *timerList) {
	if ls.index >= 0 {
		l.heap.removeAt(ls.index)
	}
	if ls == l.last {
		l.last = nil
	}
	delete(l.lists, ls.ms)
	ls.head, ls.tail = nil, nil
	l.spareList = ls
	if n := len(l.lists); l.listsPeak > shrinkAbove && n < l.listsPeak/4 {
		lists := make(map[uint32]*timerList, n)
		for _, ls := range l.heap {
			lists[ls.ms] = ls
		}
		if last := l.last; last != nil {
			lists[last.ms] = last // empty, hence not in the heap, or already there
		}
		l.lists, l.listsPeak = lists, n
	}
	if n := len(l.heap); cap(l.heap) > shrinkAbove && n < cap(l.heap)/4 {
		l.heap = append(make(listHeap, 0, 2*n), l.heap...)
	}
}

// append puts t, which is in no list, at the end of ls. A timer out of its
// list has nil prev and next (remove and Close leave it so), so only the
// links that change are written: each pointer write costs a write barrier
// while the GC marks.
func (ls *timerList) append(t *Timer) {
	t.list = ls
	if tail := ls.tail; tail == nil {
		ls.head = t
	} else {
		t.prev = tail
		tail.next = t
	}
	ls.tail = t
}

// remove takes t out of ls, leaving its prev and next nil.
func (ls *timerList) remove(t *Timer) {
	prev, next := t.prev, t.next
	if prev == nil {
		ls.head = next
	} else {
		prev.next = next
		t.prev = nil
	}
	if next == nil {
		ls.tail = prev
	} else {
		next.prev = prev
		t.next = nil
	}
}

// listHeap is a min-heap of timer lists by expiry, then by the creation
// sequence of their heads, so that timers of different durations due at the
// same instant fire in the order they were set.
type listHeap []*timerList

func (h listHeap) less(i, j int) bool {
	a, b := h[i], h[j]
	if a.expiry != b.expiry {
		return a.expiry < b.expiry
	}
	return a.headSeq() < b.headSeq()
}

func (ls *timerList) headSeq() uint64 {
	if ls.head == nil {
		return 0
	}
	return ls.head.seq
}

func (h *listHeap) push(ls *timerList) {
	ls.index = len(*h)
	*h = append(*h, ls)
	h.up(ls.index)
}

func (h *listHeap) removeAt(i int) {
	old := *h
	n := len(old) - 1
	old[i].index = -1
	if i != n {
		old[i] = old[n]
		old[i].index = i
	}
	old[n] = nil
	*h = old[:n]
	if i != n {
		h.fix(i)
	}
}

// fix restores the heap after the key of element i changed.
func (h listHeap) fix(i int) {
	if !h.down(i) {
		h.up(i)
	}
}

func (h listHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h listHeap) down(i int) bool {
	start := i
	for {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		m := l
		if r := l + 1; r < len(h) && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			break
		}
		h.swap(i, m)
		i = m
	}
	return i > start
}

func (h listHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
