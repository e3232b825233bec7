/**
 * Generates `common-passwords.txt`, the dictionary of the password-crack attack: the passwords
 * that top every leaked-password list, then common base words × the suffixes people append
 * ("dragon" → "dragon1", "dragon123", "dragon2024"...), then the same capitalized. Ordered the way
 * cracking lists are — most likely first — which is why a password made of a common word and a
 * year sits around a thousand guesses in, not at the top.
 *
 * Run: `npx tsx attacks/wordlists/generate-common-passwords.ts` (rewrites the file beside it).
 * test/password-crack.test.ts checks the shipped file is exactly this generator's output.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The passwords at the top of every breach list, roughly in their usual order. */
const TOP = [
  '123456', 'password', '123456789', '12345678', '12345', 'qwerty', '1234567', '111111', '1234567890', '123123',
  'abc123', '1234', 'password1', 'iloveyou', '1q2w3e4r', '000000', 'qwerty123', 'zaq12wsx', 'dragon', 'sunshine',
  'princess', 'letmein', '654321', 'monkey', '27653', '1qaz2wsx', '123321', 'qwertyuiop', 'superman', 'asdfghjkl',
  '666666', '121212', 'football', 'baseball', 'welcome', 'master', 'shadow', 'michael', 'trustno1', 'passw0rd',
  '112233', '987654321', 'aa123456', 'qazwsx', 'password123', 'admin', 'admin123', 'login', '1q2w3e', 'starwars',
];

/** Base words people build passwords from (names, pets, sports, things they love), most common first. */
const BASES = [
  'password', 'qwerty', 'monkey', 'letmein', 'football', 'iloveyou', 'admin', 'welcome', 'princess', 'sunshine',
  'master', 'shadow', 'superman', 'michael', 'baseball', 'charlie', 'jordan', 'hunter', 'killer', 'soccer',
  'hockey', 'batman', 'thomas', 'tigger', 'robert', 'access', 'love', 'buster', 'dragon', 'ginger',
  'jessica', 'pepper', 'daniel', 'summer', 'ashley', 'nicole', 'chelsea', 'matthew', 'andrew', 'jennifer',
  'joshua', 'maggie', 'freedom', 'whatever', 'computer', 'cookie', 'flower', 'george', 'secret', 'hello',
  'orange', 'purple', 'silver', 'golden', 'diamond', 'banana', 'cheese', 'chocolate', 'pokemon', 'minecraft',
  'ninja', 'matrix', 'thunder', 'phoenix', 'falcon', 'eagle', 'tiger', 'panther', 'wolf', 'bear',
  'rabbit', 'kitten', 'puppy', 'angel', 'heaven', 'jesus', 'mustang', 'corvette', 'ferrari', 'harley',
  'yankees', 'lakers', 'cowboys', 'arsenal', 'liverpool', 'barcelona', 'london', 'paris', 'berlin', 'samsung',
  'apple', 'google', 'internet', 'winter', 'spring', 'autumn', 'october', 'november', 'december', 'monday',
  'friday', 'family', 'forever', 'lovely', 'babygirl', 'sweetie', 'butterfly', 'rainbow', 'starlight', 'snoopy',
  'scooter', 'rocky', 'lucky', 'bailey', 'buddy', 'sophie', 'oliver', 'charlotte', 'william', 'james',
  'anthony', 'justin', 'taylor', 'austin', 'dallas', 'chicago', 'boston', 'hannah', 'samantha', 'qazwsx',
];

/** Suffixes appended to base words, most common first. */
const SUFFIXES = ['', '1', '123', '12', '!', '1234', '01', '2023', '2024', '2025', '69', '99', '007', '11', '22', '00', '13', '7', '2', '21', '!!', '1!', '123!', '@123', '#1', '2000'];

/** Suffixes tried again with the first letter capitalized (the "complexity rule" habit). */
const CAPITALIZED_SUFFIXES = ['', '1', '123', '!', '1!', '2024', '123!'];

/**
 * The list, most likely first, without duplicates.
 * @returns a few thousand candidate passwords
 */
export function commonPasswords(): string[] {
  const out = new Set<string>(TOP);
  for (const s of SUFFIXES) for (const b of BASES) out.add(b + s);
  for (const s of CAPITALIZED_SUFFIXES) for (const b of BASES) out.add(b[0].toUpperCase() + b.slice(1) + s);
  return [...out];
}

/** The file's text: one candidate per line, with a trailing newline. */
export function commonPasswordsText(): string {
  return commonPasswords().join('\n') + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = fileURLToPath(new URL('./common-passwords.txt', import.meta.url));
  writeFileSync(file, commonPasswordsText());
  console.log(`wrote ${commonPasswords().length} candidates to ${file}`);
}
