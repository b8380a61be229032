/**
 * Cue words of the injection classifier: a few concept classes ("ignore", "previous", "instructions", "now"…), each
 * listed in English, German, French, Spanish, Italian and Portuguese. A cue word adds a feature for its class and
 * one for every other class seen in the four words before it (so "vergiss … anweisungen" and "ignore … instructions"
 * share the pair feature ignore→instructions). The classes carry no score of their own: their weights are learned
 * with the n-grams, from whichever language the training data has them in, and reach the other languages through
 * the class. The lists were written from dictionary translations of the English words, not read off any dataset.
 *
 * Lookup is by the 32-bit hash features.ts computes for every word anyway, in a small open-addressing table.
 *
 * @internal
 */
import { normalizeText } from './normalize.ts';

const CLASSES: readonly string[] = [
  // ignore
  'ignore ignores ignored ignoring disregard disregarding forget forgetting neglect skip overlook abandon drop ' +
    'ignoriere ignorier ignoriert ignorieren vergiss vergesst vergessen vergisst missachte missachten ' +
    'ignorez ignorer oublie oubliez oublier ignora ignorar olvida olvide olvidar olvidate dimentica dimenticare esqueca esquece esquecer',
  // previous
  'previous prior above earlier preceding former original initial before vorherigen vorherige bisherigen bisherige obigen obige ' +
    'vorigen vorige vorangegangenen fruheren oben zuvor precedentes precedente anterieures anterieur dessus anteriores anterior previas ' +
    'previos precedenti sopra',
  // instructions
  'instructions instruction directions directives rules guidelines orders commands prompt prompts task tasks constraints ' +
    'anweisungen anweisung instruktionen befehle regeln vorgaben aufgabe aufgaben richtlinien consignes regles tache taches ' +
    'instrucciones reglas tarea tareas istruzioni regole compito instrucoes regras tarefa',
  // all
  'all everything anything whatever alle alles samtliche tout tous toutes todo todos todas tutto tutti tudo',
  // now
  'now henceforth instead anymore jetzt nun stattdessen sofort ab maintenant desormais ahora adesso ora agora',
  // new
  'new different another next neue neuen neues neuer nouveau nouvelle nouvelles nueva nuevo nuevas nuovo nuova novo nova',
  // you
  'you your yourself du dich dir dein deine deinen ihr euch vous tu toi ton ta tes votre usted te ti tuo tua voce',
  // say
  'say write print output respond reply answer repeat tell type spell return sag sage schreib schreibe schreiben gib antworte ' +
    'antworten wiederhole ausgeben dis dites ecris ecrivez reponds repetez di dime escribe escriba responde repite scrivi rispondi ' +
    'diga escreva responda',
  // pretend
  'pretend act roleplay role imagine simulate behave persona character spiele spiel stell vorstellen verhalte rolle joue jouez ' +
    'fais finge actua juega imagina rol finga',
  // stop
  'stop halt cease end enough attention stopp stoppe achtung genug arrete arretez fin basta alto para detente ferma pare',
  // system
  'system developer admin administrator root mode override sudo entwickler modus systeme desarrollador modo sistema',
  // secret
  'secret password hidden confidential key embeddings geheim geheime passwort kennwort secreto contrasena segreto senha',
  // restrictions
  'restrictions filters filter limits limitations censorship ethics morals policies beschrankungen einschrankungen zensur filtre ' +
    'censure restricciones censura limiti restricoes',
  // hostile content
  'hate hates stupid idiot crazy kill lie lies untrue false fake dumb hasse hasst dumm unwahre unwahr falsch luge deteste menteur odio ' +
    'mentira falso',
];

/** How many classes there are; class ids run from 1 to this. */
export const CUE_CLASSES = CLASSES.length;

const SIZE = 1024;
const keys = new Int32Array(SIZE);
const values = new Uint8Array(SIZE);

/**
 * The cue class (1…CUE_CLASSES) of the word whose hash is `wordHash`, or 0. `wordHash` is features.ts's hash of a
 * word of the normal form.
 */
export function cueClass(wordHash: number): number {
  for (let i = wordHash & (SIZE - 1); ; i = (i + 1) & (SIZE - 1)) {
    const v = values[i]!;
    if (v === 0 || keys[i] === wordHash) return v;
  }
}

/**
 * Fills the table; called once by features.ts with its word hash (kept there so the two cannot disagree). A word
 * listed in two classes keeps the first.
 */
export function buildCueTable(hashWord: (normalWord: string) => number): void {
  CLASSES.forEach((list, index) => {
    for (const raw of list.split(' ')) {
      const h = hashWord(normalizeText(raw).trim());
      let i = h & (SIZE - 1);
      while (values[i] !== 0 && keys[i] !== h) i = (i + 1) & (SIZE - 1);
      if (values[i] !== 0) continue;
      keys[i] = h;
      values[i] = index + 1;
    }
  });
}
