/*
 * Drag-to-reorder for admin lists (R-CUR-2): milestones of a learning plan, programs linked to a milestone.
 *
 * Markup: a list element (tbody, ol, ul) carrying
 *   data-reorder-url     where the complete new order is POSTed, as repeated `order` fields of ids
 *   data-reorder-csrf    the CSRF token sent with it
 *   data-reorder-status  the id of a live region that shows progress, the server's message or its refusal
 * whose direct children carrying data-reorder-id (and data-reorder-label, for announcements) are the items.
 * Inside an item: a [data-reorder-handle] button (rendered hidden, shown here), optional [data-reorder-position]
 * elements renumbered 1, 2, 3…, and optional [data-reorder-fallback] controls (the ↑/↓ forms that work without
 * JavaScript), hidden here.
 *
 * Pointer: press on a handle and move; the item follows the pointer. Keyboard: Alt+↑/↓ on a handle moves the item
 * one place and saves; Space or Enter picks it up, ↑/↓ (Home/End) move it, Space or Enter drops and saves,
 * Escape puts it back. When the server refuses, the previous order is restored and its error is shown.
 * No dependencies; the product runs offline.
 */
(function () {
  "use strict";

  function itemsOf(list) {
    return Array.prototype.filter.call(list.children, function (el) {
      return el.hasAttribute("data-reorder-id");
    });
  }

  function idsOf(list) {
    return itemsOf(list).map(function (el) {
      return el.getAttribute("data-reorder-id");
    });
  }

  function sameOrder(a, b) {
    return a.length === b.length && a.every(function (id, i) { return id === b[i]; });
  }

  function setUp(list) {
    var url = list.getAttribute("data-reorder-url");
    var csrf = list.getAttribute("data-reorder-csrf") || "";
    var status = document.getElementById(list.getAttribute("data-reorder-status") || "");
    var saved = idsOf(list);
    var busy = false;
    var drag = null; // pointer drag: {item, handle, pointerId, y, scrolling}
    var held = null; // keyboard pick-up: {item, handle, before}

    function labelOf(item) {
      return item.getAttribute("data-reorder-label") || "Item";
    }

    function itemOf(el) {
      var item = el.closest("[data-reorder-id]");
      return item && item.parentNode === list ? item : null;
    }

    function show(text, kind) {
      if (!status) {
        return;
      }
      status.hidden = false;
      status.className = "reorder-status message message-" + kind;
      status.textContent = text;
    }

    function renumber() {
      itemsOf(list).forEach(function (item, index) {
        item.querySelectorAll("[data-reorder-position]").forEach(function (el) {
          el.textContent = String(index + 1);
        });
      });
    }

    function positionText(item) {
      var items = itemsOf(list);
      return labelOf(item) + ": position " + (items.indexOf(item) + 1) + " of " + items.length + ".";
    }

    // Places `item` just before or just after `target` by moving the items in between, never `item` itself:
    // taking the item out of the document would drop its handle's focus and pointer capture.
    function place(item, target, after) {
      var items = itemsOf(list);
      var from = items.indexOf(item);
      var to = items.indexOf(target);
      if (from < 0 || to < 0 || item === target) {
        return false;
      }
      if (to < from) {
        var upTo = after ? to + 1 : to;
        if (upTo >= from) {
          return false;
        }
        var anchor = item.nextSibling;
        items.slice(upTo, from).forEach(function (el) {
          list.insertBefore(el, anchor);
        });
      } else {
        var downTo = after ? to : to - 1;
        if (downTo <= from) {
          return false;
        }
        items.slice(from + 1, downTo + 1).forEach(function (el) {
          list.insertBefore(el, item);
        });
      }
      renumber();
      return true;
    }

    function restore(order) {
      var active = document.activeElement;
      var byId = {};
      itemsOf(list).forEach(function (item) {
        byId[item.getAttribute("data-reorder-id")] = item;
      });
      order.forEach(function (id) {
        if (byId[id]) {
          list.appendChild(byId[id]);
        }
      });
      renumber();
      if (active && list.contains(active) && document.activeElement !== active) {
        active.focus();
      }
    }

    function save() {
      var order = idsOf(list);
      if (sameOrder(order, saved)) {
        return;
      }
      var before = saved.slice();
      var body = new URLSearchParams();
      order.forEach(function (id) {
        body.append("order", id);
      });
      busy = true;
      list.classList.add("reorder-saving");
      show("Saving the new order…", "info");
      fetch(url, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf, "X-Requested-With": "XMLHttpRequest", Accept: "application/json" }
      })
        .then(function (response) {
          return response.json().then(
            function (data) { return { ok: response.ok, status: response.status, data: data || {} }; },
            function () { return { ok: false, status: response.status, data: {} }; }
          );
        })
        .then(function (answer) {
          if (answer.ok && answer.data.message) {
            saved = order;
            show(answer.data.message, "success");
          } else {
            restore(before);
            show(answer.data.error || "The new order was not saved (the server answered " + answer.status +
              "); the previous order is back.", "error");
          }
        }, function () {
          restore(before);
          show("The new order was not saved: the server did not answer. The previous order is back.", "error");
        })
        .then(function () {
          busy = false;
          list.classList.remove("reorder-saving");
        });
    }

    // Pointer dragging

    function moveTo(y) {
      var item = drag.item;
      var own = item.getBoundingClientRect();
      if (y >= own.top && y <= own.bottom) {
        return;
      }
      var others = itemsOf(list).filter(function (el) { return el !== item; });
      if (!others.length) {
        return;
      }
      var target = null;
      others.forEach(function (el) {
        var r = el.getBoundingClientRect();
        if (y >= r.top && y <= r.bottom) {
          target = el;
        }
      });
      if (!target) {
        var first = others[0];
        var last = others[others.length - 1];
        if (y < first.getBoundingClientRect().top) {
          target = first;
        } else if (y > last.getBoundingClientRect().bottom) {
          target = last;
        } else {
          return;
        }
      }
      var r = target.getBoundingClientRect();
      var middle = r.top + r.height / 2;
      var items = itemsOf(list);
      var targetIsAbove = items.indexOf(target) < items.indexOf(item);
      // Past the middle of the item above or below, the dragged item takes its place.
      if (targetIsAbove && y <= middle) {
        place(item, target, false);
      } else if (!targetIsAbove && y >= middle) {
        place(item, target, true);
      }
    }

    // Near the top or bottom of the window the page scrolls, so that an item can be dragged past what is shown.
    var EDGE = 48;

    function scrollStep() {
      if (!drag) {
        return;
      }
      var speed = 0;
      if (drag.y < EDGE) {
        speed = -Math.ceil((EDGE - drag.y) / 4);
      } else if (drag.y > window.innerHeight - EDGE) {
        speed = Math.ceil((drag.y - (window.innerHeight - EDGE)) / 4);
      }
      if (speed === 0) {
        drag.scrolling = false;
        return;
      }
      var before = window.scrollY;
      window.scrollBy(0, speed);
      if (window.scrollY === before) {
        drag.scrolling = false;
        return;
      }
      moveTo(drag.y);
      window.requestAnimationFrame(scrollStep);
    }

    function onPointerMove(e) {
      if (drag && e.pointerId === drag.pointerId) {
        e.preventDefault();
        drag.y = e.clientY;
        moveTo(e.clientY);
        if (!drag.scrolling && (e.clientY < EDGE || e.clientY > window.innerHeight - EDGE)) {
          drag.scrolling = true;
          window.requestAnimationFrame(scrollStep);
        }
      }
    }

    function endDrag(e, keep) {
      if (!drag || e.pointerId !== drag.pointerId) {
        return;
      }
      var ended = drag;
      drag = null;
      document.removeEventListener("pointermove", onPointerMove);
      document.removeEventListener("pointerup", onPointerUp);
      document.removeEventListener("pointercancel", onPointerCancel);
      ended.item.classList.remove("reorder-dragging");
      document.documentElement.classList.remove("reorder-grabbing");
      if (ended.handle.hasPointerCapture && ended.handle.hasPointerCapture(e.pointerId)) {
        ended.handle.releasePointerCapture(e.pointerId);
      }
      ended.handle.focus();
      if (keep) {
        save();
      } else {
        restore(saved);
      }
    }

    function onPointerUp(e) {
      endDrag(e, true);
    }

    function onPointerCancel(e) {
      endDrag(e, false);
    }

    function onPointerDown(e) {
      if (busy || drag || held || e.button !== 0) {
        return;
      }
      var handle = e.currentTarget;
      var item = itemOf(handle);
      if (!item) {
        return;
      }
      e.preventDefault();
      drag = { item: item, handle: handle, pointerId: e.pointerId, y: e.clientY, scrolling: false };
      if (handle.setPointerCapture) {
        handle.setPointerCapture(e.pointerId);
      }
      item.classList.add("reorder-dragging");
      document.documentElement.classList.add("reorder-grabbing");
      document.addEventListener("pointermove", onPointerMove);
      document.addEventListener("pointerup", onPointerUp);
      document.addEventListener("pointercancel", onPointerCancel);
    }

    // Keyboard

    function step(item, key) {
      var items = itemsOf(list);
      var at = items.indexOf(item);
      var to = { ArrowUp: at - 1, ArrowDown: at + 1, Home: 0, End: items.length - 1 }[key];
      if (to < 0 || to >= items.length || to === at) {
        return false;
      }
      return place(item, items[to], to > at);
    }

    function pickUp(item, handle) {
      held = { item: item, handle: handle, before: idsOf(list) };
      item.classList.add("reorder-dragging");
      handle.setAttribute("aria-pressed", "true");
      show("Picked up " + positionText(item) + " Use the arrow keys to move it, Space to drop it, Escape to cancel.",
        "info");
    }

    function letGo(keep) {
      var was = held;
      held = null;
      was.item.classList.remove("reorder-dragging");
      was.handle.setAttribute("aria-pressed", "false");
      if (keep) {
        if (sameOrder(idsOf(list), saved)) {
          show("Dropped " + positionText(was.item) + " The order is unchanged.", "info");
        } else {
          save();
        }
      } else {
        restore(was.before);
        show("Cancelled; " + positionText(was.item), "info");
      }
    }

    function onKeyDown(e) {
      var handle = e.currentTarget;
      var item = itemOf(handle);
      var key = e.key;
      var moves = key === "ArrowUp" || key === "ArrowDown" || key === "Home" || key === "End";
      if (!item) {
        return;
      }
      if (busy) {
        if (moves || key === " " || key === "Enter") {
          e.preventDefault();
        }
        return;
      }
      if (held && held.item !== item) {
        return;
      }
      if (e.altKey && (key === "ArrowUp" || key === "ArrowDown")) {
        e.preventDefault();
        if (held) {
          step(item, key);
          show(positionText(item), "info");
        } else if (step(item, key)) {
          save();
        }
      } else if (key === " " || key === "Enter") {
        e.preventDefault();
        if (held) {
          letGo(true);
        } else {
          pickUp(item, handle);
        }
      } else if (held && moves) {
        e.preventDefault();
        step(item, key);
        show(positionText(item), "info");
      } else if (held && key === "Escape") {
        e.preventDefault();
        letGo(false);
      }
    }

    function onBlur(e) {
      if (held && held.handle === e.currentTarget) {
        letGo(false);
      }
    }

    itemsOf(list).forEach(function (item) {
      var handle = item.querySelector("[data-reorder-handle]");
      if (!handle) {
        return;
      }
      handle.hidden = false;
      handle.setAttribute("aria-pressed", "false");
      handle.addEventListener("pointerdown", onPointerDown);
      handle.addEventListener("keydown", onKeyDown);
      handle.addEventListener("blur", onBlur);
    });
    list.querySelectorAll("[data-reorder-fallback]").forEach(function (el) {
      el.hidden = true;
    });
    list.classList.add("reorder-ready");
  }

  function start() {
    document.querySelectorAll("[data-reorder-url]").forEach(setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
