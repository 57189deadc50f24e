// Starts the GOV.UK Frontend components on every staff page.
import { initAll } from "/assets/govuk-frontend.min.js";

initAll();
