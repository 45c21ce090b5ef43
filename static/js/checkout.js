// Card payment on the pay page. Stripe.js (real, or localstripe's copy in development)
// turns the card into a token in the browser; only the token goes to our server, which
// confirms the order's PaymentIntent. If the bank asks for 3-D Secure, Stripe.js handles it
// with confirmCardPayment, and a POST to the refresh URL asks the payments API what happened.
// The PaymentIntent is created by the pay POST (not by checkout, not by any GET); if the
// payments API does not answer within its budget the server says so (503) and she may retry.
(function () {
  'use strict';
  const form = document.getElementById('payment-form');
  if (!form || typeof Stripe === 'undefined') return;

  const stripe = Stripe(form.dataset.publishableKey);
  const card = stripe.elements().create('card');
  card.mount('#card-element');

  const button = document.getElementById('pay-button');
  const message = document.getElementById('payment-message');
  const processing = document.getElementById('payment-processing');
  const backToCart = document.getElementById('back-to-cart');

  function busy(on) {
    button.disabled = on;
    button.setAttribute('aria-busy', on ? 'true' : 'false');
    processing.hidden = !on;
  }

  function show(text) {
    message.textContent = text;
    message.hidden = !text;
  }

  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    if (button.disabled) return;  // a double click pays once
    show('');
    busy(true);
    try {
      const result = await stripe.createToken(card);
      if (result.error) {
        // Stripe.js's own text is English: show the reader's language, keyed by its code.
        let known = {};
        try { known = JSON.parse(form.dataset.cardErrors || '{}'); } catch (e) { known = {}; }
        show(known[result.error.decline_code] || known[result.error.code] || known[''] ||
             form.dataset.genericError || 'Error');
        busy(false);
        return;
      }
      const token = result.token;
      const response = await fetch(form.dataset.payUrl, {
        method: 'POST',
        credentials: 'same-origin',
        headers: {'Content-Type': 'application/json', 'X-CSRFToken': form.dataset.csrf,
                  'Accept': 'application/json'},
        body: JSON.stringify({token: token.id, card: token.card ? token.card.id : ''}),
      });
      const out = await response.json().catch(function () { return {}; });
      if (out.status === 'requires_action' && out.client_secret) {
        await stripe.confirmCardPayment(out.client_secret);
        // Ask the server to check with the payments API (a POST: no GET page calls the API).
        await fetch(form.dataset.refreshUrl, {
          method: 'POST', credentials: 'same-origin',
          headers: {'X-CSRFToken': form.dataset.csrf, 'Accept': 'application/json'},
        }).catch(function () {});
        window.location.assign(out.redirect);
        return;
      }
      if (['paid', 'processing', 'pending'].indexOf(out.status) >= 0) {
        window.location.assign(out.redirect);
        return;
      }
      show(out.message || (out.error && out.error.message) || form.dataset.genericError || 'Error');
      if (out.status === 'declined' || out.status === 'cancelled') {
        backToCart.hidden = false;  // the items are back in the cart for another try
        processing.hidden = true;
        button.hidden = true;
        return;
      }
      busy(false);  // e.g. the payments service was unreachable: the buyer may retry
    } catch (err) {
      show(form.dataset.networkError || String(err));
      busy(false);
    }
  });
})();
