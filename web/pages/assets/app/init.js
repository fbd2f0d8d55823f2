// Starts the GOV.UK and MoJ components on the page. A module, so it runs
// only in browsers that GOV.UK Frontend supports; the pages work without it.
import { initAll } from '/assets/govuk-frontend.min.js';

initAll();
